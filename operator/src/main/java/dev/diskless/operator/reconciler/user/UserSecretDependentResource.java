package dev.diskless.operator.reconciler.user;

import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.crd.DisklessKafkaUserSpec.Authentication.Type;
import dev.diskless.operator.reconciler.GeneratedPasswords;
import dev.diskless.operator.reconciler.cluster.ClusterNames;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.BooleanWithUndefined;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * A user's Secret, named after the user. SCRAM: {@code username}, a generated {@code password}
 * (made once, never rewritten: the cluster stores its credentials) and {@code sasl.jaas.config},
 * which a Kafka client can use as it is. TLS: {@code user.crt}, {@code user.key} and {@code ca.crt}
 * ({@link TlsUserSecret}), issued again before the certificate expires. Written whole (not
 * server-side applied), so that switching the type leaves none of the other type's keys behind.
 */
@KubernetesDependent(
    useSSA = BooleanWithUndefined.FALSE,
    informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class UserSecretDependentResource
    extends CRUDKubernetesDependentResource<Secret, DisklessKafkaUser> {

  public static final String PASSWORD_KEY = "password";
  public static final String JAAS_KEY = "sasl.jaas.config";

  /** Where the precondition leaves a tls user's inputs for {@link #desired} and {@link #match}. */
  private static final String INPUTS = "tls-user-inputs";

  public UserSecretDependentResource() {
    super(Secret.class);
  }

  @Override
  protected Secret desired(DisklessKafkaUser user, Context<DisklessKafkaUser> context) {
    String name = user.getMetadata().getName();
    Optional<Secret> existing =
        Optional.ofNullable(context).flatMap(c -> getSecondaryResource(user, c));
    Map<String, String> data =
        user.getSpec().authentication.type == Type.TLS
            ? TlsUserSecret.data(name, existing, inputs(context), Instant.now())
            : scram(name, existing);
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
        .withData(data)
        .build();
  }

  private static Map<String, String> scram(String name, Optional<Secret> existing) {
    String password =
        GeneratedPasswords.storedOrNew(
            existing.filter(s -> !s.getData().containsKey(TlsUserSecret.CERTIFICATE)),
            PASSWORD_KEY);
    return Map.of(
        "username",
        base64(name),
        PASSWORD_KEY,
        base64(password),
        JAAS_KEY,
        base64(
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + name
                + "\" password=\""
                + password
                + "\";"));
  }

  /**
   * SCRAM: a Secret that holds a password is left alone (the cluster knows that password). TLS: one
   * whose certificate is good and whose brokers' CA is current.
   */
  @Override
  public Matcher.Result<Secret> match(
      Secret actual, DisklessKafkaUser user, Context<DisklessKafkaUser> context) {
    if (user.getSpec().authentication.type == Type.TLS) {
      return Matcher.Result.nonComputed(
          TlsUserSecret.upToDate(
              actual, user.getMetadata().getName(), inputs(context), Instant.now()));
    }
    return Matcher.Result.nonComputed(
        GeneratedPasswords.holds(actual, PASSWORD_KEY)
            && !actual.getData().containsKey(TlsUserSecret.CERTIFICATE));
  }

  /** By name: a tls user's desired Secret holds a new certificate each time it is made. */
  @Override
  protected ResourceID targetSecondaryResourceID(
      DisklessKafkaUser user, Context<DisklessKafkaUser> context) {
    return new ResourceID(user.getMetadata().getName(), user.getMetadata().getNamespace());
  }

  private static TlsUserInputs inputs(Context<DisklessKafkaUser> context) {
    return context
        .managedWorkflowAndDependentResourceContext()
        .getMandatory(INPUTS, TlsUserInputs.class);
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Users with credentials have a Secret: SCRAM users always, tls users once their cluster's
   * clients CA is there, a user refused by {@link UserSync#refusal} never (read here, once per
   * reconcile, for {@link #desired} and {@link #match}).
   */
  public static class HasCredentials implements Condition<Secret, DisklessKafkaUser> {
    @Override
    public boolean isMet(
        DependentResource<Secret, DisklessKafkaUser> dependentResource,
        DisklessKafkaUser user,
        Context<DisklessKafkaUser> context) {
      if (user.getSpec().authentication == null || UserSync.refusal(user).isPresent()) {
        return false;
      }
      if (user.getSpec().authentication.type
          != dev.diskless.operator.crd.DisklessKafkaUserSpec.Authentication.Type.TLS) {
        return true;
      }
      Optional<TlsUserInputs> inputs =
          TlsUserInputs.read(
              context.getClient(), user.getMetadata().getNamespace(), user.getSpec().cluster);
      inputs.ifPresent(i -> context.managedWorkflowAndDependentResourceContext().put(INPUTS, i));
      return inputs.isPresent();
    }
  }
}
