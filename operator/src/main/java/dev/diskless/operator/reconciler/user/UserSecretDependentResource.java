package dev.diskless.operator.reconciler.user;

import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.reconciler.GeneratedPasswords;
import dev.diskless.operator.reconciler.cluster.ClusterNames;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import java.util.Map;
import java.util.Optional;

/**
 * A SCRAM user's Secret, named after the user: {@code username}, a generated {@code password} (made
 * once, never rewritten: the cluster stores its credentials) and {@code sasl.jaas.config}, which a
 * Kafka client can use as it is.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class UserSecretDependentResource
    extends CRUDKubernetesDependentResource<Secret, DisklessKafkaUser> {

  public static final String PASSWORD_KEY = "password";
  public static final String JAAS_KEY = "sasl.jaas.config";

  public UserSecretDependentResource() {
    super(Secret.class);
  }

  @Override
  protected Secret desired(DisklessKafkaUser user, Context<DisklessKafkaUser> context) {
    String name = user.getMetadata().getName();
    String password =
        GeneratedPasswords.storedOrNew(
            Optional.ofNullable(context).flatMap(c -> c.getSecondaryResource(Secret.class)),
            PASSWORD_KEY);
    return new SecretBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(user.getMetadata().getNamespace())
                .withLabels(
                    Map.of(
                        "app.kubernetes.io/managed-by", ClusterNames.MANAGED_BY,
                        "app.kubernetes.io/name", "diskless-kafka-user",
                        "app.kubernetes.io/instance", user.getSpec().cluster))
                .build())
        .withType("Opaque")
        .withStringData(
            Map.of(
                "username",
                name,
                PASSWORD_KEY,
                password,
                JAAS_KEY,
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + name
                    + "\" password=\""
                    + password
                    + "\";"))
        .build();
  }

  /** A Secret that holds a password is left alone: the cluster knows that password. */
  @Override
  public Matcher.Result<Secret> match(
      Secret actual, DisklessKafkaUser user, Context<DisklessKafkaUser> context) {
    return GeneratedPasswords.holds(actual, PASSWORD_KEY)
        ? Matcher.Result.nonComputed(true)
        : super.match(actual, user, context);
  }

  /** Only SCRAM users have a Secret. */
  public static class HasScram implements Condition<Secret, DisklessKafkaUser> {
    @Override
    public boolean isMet(
        DependentResource<Secret, DisklessKafkaUser> dependentResource,
        DisklessKafkaUser user,
        Context<DisklessKafkaUser> context) {
      return user.getSpec().authentication != null;
    }
  }
}
