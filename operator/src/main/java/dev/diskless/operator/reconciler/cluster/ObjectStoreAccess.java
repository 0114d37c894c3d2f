package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.ObjectStoreSpec;
import dev.diskless.operator.reconciler.Sha256;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.DelegatingS3Client;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * An S3 client for a cluster's bucket with the cluster's credentials: the keys of its Secret, or
 * the default chain (workload identity) when it names none. Short timeouts, since a check waits for
 * it. {@link #credentials} and {@link #build} are apart so that clusters with the same store and
 * credentials can share one client ({@link ExternalChecks}); {@link #open} builds one for a single
 * use.
 */
final class ObjectStoreAccess {

  /** A client, or why there is none (the Secret's reason and message, for a condition). */
  record Opened(S3Client s3, String failureReason, String failureMessage) {
    boolean ok() {
      return s3 != null;
    }
  }

  /**
   * The static keys of a cluster's Secret ({@code accessKeyId} null: the default chain), or why
   * they could not be read ({@code failureReason} not null).
   */
  record Credentials(
      String accessKeyId, String secretAccessKey, String failureReason, String failureMessage) {

    static final Credentials DEFAULT_CHAIN = new Credentials(null, null, null, null);

    boolean found() {
      return failureReason == null;
    }

    /** Never the secret itself, should this be logged. */
    @Override
    public String toString() {
      return found()
          ? accessKeyId == null ? "default chain" : "access key " + accessKeyId
          : failureReason;
    }
  }

  /**
   * What makes two clients interchangeable: the store and the credentials. The secret key is only
   * kept as a digest, so that the key of a cache holds no secret.
   */
  record ClientKey(
      String region,
      String endpoint,
      boolean pathStyle,
      String accessKeyId,
      String secretAccessKeyDigest) {

    static ClientKey of(ObjectStoreSpec spec, Credentials credentials) {
      return new ClientKey(
          spec.region,
          spec.endpoint,
          spec.pathStyle,
          credentials.accessKeyId(),
          credentials.secretAccessKey() == null ? null : Sha256.hex(credentials.secretAccessKey()));
    }
  }

  private ObjectStoreAccess() {}

  static Opened open(KubernetesClient client, DisklessKafkaCluster cluster) {
    Credentials credentials = credentials(client, cluster);
    if (!credentials.found()) {
      return new Opened(null, credentials.failureReason(), credentials.failureMessage());
    }
    return new Opened(build(cluster.getSpec().objectStore, credentials), null, null);
  }

  /** The credentials the cluster names; reads its Secret (an API call) when it names one. */
  static Credentials credentials(KubernetesClient client, DisklessKafkaCluster cluster) {
    ObjectStoreSpec spec = cluster.getSpec().objectStore;
    if (spec.credentialsSecret == null) {
      // Workload identity: the operator's own role must be allowed to use the bucket.
      return Credentials.DEFAULT_CHAIN;
    }
    SecretKeys.Lookup secret =
        SecretKeys.read(
            client,
            cluster.getMetadata().getNamespace(),
            spec.credentialsSecret.name,
            List.of(
                spec.credentialsSecret.accessKeyIdKey, spec.credentialsSecret.secretAccessKeyKey));
    if (!secret.found()) {
      return new Credentials(null, null, secret.failureReason(), secret.failureMessage());
    }
    return new Credentials(
        secret.values().get(spec.credentialsSecret.accessKeyIdKey),
        secret.values().get(spec.credentialsSecret.secretAccessKeyKey),
        null,
        null);
  }

  /**
   * A client for the store with found credentials. Closing it closes its HTTP client and a default
   * chain provider built here (the SDK leaves a provider it is handed open, and one of the default
   * chain may hold a refreshing thread).
   */
  static S3Client build(ObjectStoreSpec spec, Credentials credentials) {
    AwsCredentialsProvider provider =
        credentials.accessKeyId() == null
            ? DefaultCredentialsProvider.builder().build()
            : StaticCredentialsProvider.create(
                AwsBasicCredentials.create(
                    credentials.accessKeyId(), credentials.secretAccessKey()));
    var builder =
        S3Client.builder()
            .region(Region.of(spec.region))
            .credentialsProvider(provider)
            // A builder, not a client: the SDK closes the HTTP client it builds with the S3 client.
            .httpClientBuilder(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(5))
                    .socketTimeout(Duration.ofSeconds(10)))
            .serviceConfiguration(
                S3Configuration.builder().pathStyleAccessEnabled(spec.pathStyle).build());
    if (spec.endpoint != null) {
      builder.endpointOverride(URI.create(spec.endpoint));
    }
    S3Client s3 = builder.build();
    if (provider instanceof AutoCloseable closeable) {
      return new ClosingS3Client(s3, closeable);
    }
    return s3;
  }

  /** Closes the credentials provider with the client. */
  private static final class ClosingS3Client extends DelegatingS3Client {
    private final AutoCloseable provider;

    ClosingS3Client(S3Client s3, AutoCloseable provider) {
      super(s3);
      this.provider = provider;
    }

    @Override
    public void close() {
      try {
        super.close();
      } finally {
        try {
          provider.close();
        } catch (Exception e) {
          // Nothing to do about it: the client is gone either way.
        }
      }
    }
  }
}
