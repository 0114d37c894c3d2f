package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.ObjectStoreSpec;
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
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * An S3 client for a cluster's bucket with the cluster's credentials: the keys of its Secret, or
 * the default chain (workload identity) when it names none. Short timeouts, since the operator
 * calls it from a reconcile.
 */
final class ObjectStoreAccess {

  /** A client, or why there is none (the Secret's reason and message, for a condition). */
  record Opened(S3Client s3, String failureReason, String failureMessage) {
    boolean ok() {
      return s3 != null;
    }
  }

  private ObjectStoreAccess() {}

  static Opened open(KubernetesClient client, DisklessKafkaCluster cluster) {
    ObjectStoreSpec spec = cluster.getSpec().objectStore;
    AwsCredentialsProvider credentials;
    if (spec.credentialsSecret != null) {
      SecretKeys.Lookup secret =
          SecretKeys.read(
              client,
              cluster.getMetadata().getNamespace(),
              spec.credentialsSecret.name,
              List.of(
                  spec.credentialsSecret.accessKeyIdKey,
                  spec.credentialsSecret.secretAccessKeyKey));
      if (!secret.found()) {
        return new Opened(null, secret.failureReason(), secret.failureMessage());
      }
      String id = secret.values().get(spec.credentialsSecret.accessKeyIdKey);
      String key = secret.values().get(spec.credentialsSecret.secretAccessKeyKey);
      credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(id, key));
    } else {
      // Workload identity: the operator's own role must be allowed to use the bucket.
      credentials = DefaultCredentialsProvider.builder().build();
    }
    var builder =
        S3Client.builder()
            .region(Region.of(spec.region))
            .credentialsProvider(credentials)
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(5))
                    .socketTimeout(Duration.ofSeconds(10))
                    .build())
            .serviceConfiguration(
                S3Configuration.builder().pathStyleAccessEnabled(spec.pathStyle).build());
    if (spec.endpoint != null) {
      builder.endpointOverride(URI.create(spec.endpoint));
    }
    return new Opened(builder.build(), null, null);
  }
}
