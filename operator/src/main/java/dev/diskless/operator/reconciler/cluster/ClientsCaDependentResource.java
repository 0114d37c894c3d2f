package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.pki.CertificateAuthority;
import dev.diskless.operator.pki.Pem;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster's clients CA: a Secret {@code <name>-clients-ca} holding {@code ca.crt} and {@code
 * ca.key} (EC P-256, PKCS#8, certificate valid for ten years), owned by the cluster. It signs the
 * certificates of DisklessKafkaUsers with {@code authentication.type: tls}; the brokers' mTLS
 * listeners trust it (only {@code ca.crt} is mounted) next to their own Secret's {@code ca.crt}. A
 * new key would invalidate every issued certificate at once, so the key is made once and kept: a
 * year before the certificate ends it is renewed with the same key and subject (brokers reload the
 * mounted file; everything issued before still verifies), and users' certificates are then issued
 * again to last past the old end. Deleting the Secret makes a new CA and users' certificates are
 * issued again with it.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class ClientsCaDependentResource
    extends CRUDKubernetesDependentResource<Secret, DisklessKafkaCluster> {

  /** The CA certificate's key in the Secret (PEM). */
  public static final String CERTIFICATE_KEY = "ca.crt";

  /** The CA private key's key in the Secret (PKCS#8 PEM); never mounted into broker pods. */
  public static final String PRIVATE_KEY_KEY = "ca.key";

  public ClientsCaDependentResource() {
    super(Secret.class);
  }

  /** The Secret's name. */
  public static String name(DisklessKafkaCluster cluster) {
    return name(cluster.getMetadata().getName());
  }

  /** The Secret's name for the cluster named {@code cluster}. */
  public static String name(String cluster) {
    return cluster + "-clients-ca";
  }

  @Override
  protected Secret desired(DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    Instant now = Instant.now();
    CertificateAuthority ca =
        Optional.ofNullable(context)
            .flatMap(c -> getSecondaryResource(cluster, c))
            .flatMap(ClientsCaDependentResource::readable)
            .map(existing -> existing.renewed(now))
            .orElseGet(
                () ->
                    CertificateAuthority.generate(
                        cluster.getMetadata().getName() + "-clients-ca", now));
    return new SecretBuilder()
        .withMetadata(ClusterNames.metadata(cluster, name(cluster)))
        .withType("Opaque")
        .withData(
            Map.of(
                CERTIFICATE_KEY, base64(Pem.certificate(ca.certificate())),
                PRIVATE_KEY_KEY, base64(Pem.privateKey(ca.key()))))
        .build();
  }

  /**
   * A Secret that holds a CA key is left alone (certificates were issued with it) until its
   * certificate is due for renewal; one that cannot be read is left alone too, for a person to look
   * at, rather than replaced by a CA no issued certificate knows.
   */
  @Override
  public Matcher.Result<Secret> match(
      Secret actual, DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    if (!holdsCa(actual)) {
      return Matcher.Result.nonComputed(false);
    }
    boolean due = readable(actual).map(ca -> ca.dueForRenewal(Instant.now())).orElse(false);
    return Matcher.Result.nonComputed(!due);
  }

  private static Optional<CertificateAuthority> readable(Secret secret) {
    if (!holdsCa(secret)) {
      return Optional.empty();
    }
    try {
      return Optional.of(read(secret));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * By name: {@link #desired} may make a new key or certificate, so it cannot say which is ours.
   */
  @Override
  protected ResourceID targetSecondaryResourceID(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return new ResourceID(name(cluster), cluster.getMetadata().getNamespace());
  }

  /** Whether a Secret holds a CA certificate and key. */
  public static boolean holdsCa(Secret secret) {
    return secret.getData() != null
        && secret.getData().containsKey(CERTIFICATE_KEY)
        && secret.getData().containsKey(PRIVATE_KEY_KEY);
  }

  /** The CA a Secret holds. */
  public static CertificateAuthority read(Secret secret) {
    return CertificateAuthority.fromPem(
        decode(secret.getData().get(CERTIFICATE_KEY)),
        decode(secret.getData().get(PRIVATE_KEY_KEY)));
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.US_ASCII);
  }
}
