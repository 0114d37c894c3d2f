package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.reconciler.GeneratedPasswords;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.Map;
import java.util.Optional;

/**
 * The operator's own Kafka user: a Secret {@code <name>-operator-credentials} with a generated
 * password, made once and never rewritten. The brokers store its SCRAM credentials at start (their
 * bootstrap user), log in to each other with it on a SASL inter-broker listener, and it is a super
 * user when ACLs are on, so that the operator can manage users and ACLs through the Admin API. Only
 * clusters with a SASL listener get it.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class OperatorCredentialsDependentResource
    extends CRUDKubernetesDependentResource<Secret, DisklessKafkaCluster> {

  /** The user name (the same in every cluster: each has its own user store). */
  public static final String USER = "diskless-operator";

  /** The Secret's key holding the password. */
  public static final String PASSWORD_KEY = "password";

  public OperatorCredentialsDependentResource() {
    super(Secret.class);
  }

  /** The Secret's name. */
  public static String name(DisklessKafkaCluster cluster) {
    return cluster.getMetadata().getName() + "-operator-credentials";
  }

  @Override
  protected Secret desired(DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    // The password stays what it is once made: the brokers stored its credentials.
    String password = GeneratedPasswords.storedOrNew(existing(cluster, context), PASSWORD_KEY);
    return new SecretBuilder()
        .withMetadata(ClusterNames.metadata(cluster, name(cluster)))
        .withType("Opaque")
        .withStringData(Map.of("username", USER, PASSWORD_KEY, password))
        .build();
  }

  /** Any Secret that holds a password is left alone. */
  @Override
  public Matcher.Result<Secret> match(
      Secret actual, DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return GeneratedPasswords.holds(actual, PASSWORD_KEY)
        ? Matcher.Result.nonComputed(true)
        : super.match(actual, cluster, context);
  }

  /** By name: the cluster has other Secrets too (its clients CA). */
  @Override
  protected ResourceID targetSecondaryResourceID(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return new ResourceID(name(cluster), cluster.getMetadata().getNamespace());
  }

  private Optional<Secret> existing(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return context == null ? Optional.empty() : getSecondaryResource(cluster, context);
  }

  /** Reconciled only for clusters with a SASL listener. */
  public static class HasSaslListener implements Condition<Secret, DisklessKafkaCluster> {
    @Override
    public boolean isMet(
        DependentResource<Secret, DisklessKafkaCluster> dependentResource,
        DisklessKafkaCluster cluster,
        Context<DisklessKafkaCluster> context) {
      return ClusterListeners.of(cluster).sasl();
    }
  }
}
