package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.testing.KubeControlPlane;
import dev.diskless.operator.testing.S3ProxyServer;
import dev.diskless.operator.testing.TestClusters;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The checks as the operator runs them, against a real API server (the Secrets) and S3Proxy:
 * clusters with the same store and credentials share one S3 client, other credentials get another,
 * and a client is closed once no cluster holds it.
 */
class ExternalChecksIT {

  private static final S3ProxyServer S3 = TestClusters.startS3();

  @AfterAll
  static void stopS3() throws Exception {
    S3.close();
  }

  @Test
  void clustersWithTheSameCredentialsShareOneS3ClientClosedWhenNoneHoldsIt() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = new TestClusters(S3).namespace(client, S3ProxyServer.ACCESS_KEY);
      client
          .secrets()
          .inNamespace(ns)
          .resource(
              new SecretBuilder(S3ProxyServer.credentialsSecret("wrong-key"))
                  .editMetadata()
                  .withName("s3-wrong")
                  .endMetadata()
                  .build())
          .create();
      ExternalChecks.LiveChecker checker = new ExternalChecks.LiveChecker(client);
      DisklessKafkaCluster a = cluster(client, ns, "a", "shared-a", "s3");
      DisklessKafkaCluster b = cluster(client, ns, "b", "shared-b", "s3");
      DisklessKafkaCluster c = cluster(client, ns, "c", "shared-c", "s3-wrong");

      ExternalChecks.Results ra = checker.check(ResourceID.fromResource(a), a);
      assertThat(ra.bucket().reason()).isEqualTo("BucketAvailable");
      assertThat(S3.hasBucket("shared-a")).isTrue();
      // The Secret "db" does not exist: said without a connection attempt.
      assertThat(ra.metadata().reason()).isEqualTo("SecretNotFound");
      assertThat(checker.check(ResourceID.fromResource(b), b).bucket().ready()).isTrue();
      assertThat(checker.openS3Clients()).isOne();
      // Again, as every refresh does: still the same one client.
      assertThat(checker.check(ResourceID.fromResource(a), a).bucket().ready()).isTrue();
      assertThat(checker.openS3Clients()).isOne();

      assertThat(checker.check(ResourceID.fromResource(c), c).bucket().reason())
          .isEqualTo("AccessDenied");
      assertThat(checker.openS3Clients()).isEqualTo(2);

      // c's Secret now holds the right key: c moves to the shared client, its own is closed.
      client
          .secrets()
          .inNamespace(ns)
          .withName("s3-wrong")
          .edit(
              s -> {
                s.setData(null);
                s.setStringData(
                    java.util.Map.of(
                        "AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY,
                        "AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY));
                return s;
              });
      assertThat(checker.check(ResourceID.fromResource(c), c).bucket().ready()).isTrue();
      assertThat(checker.openS3Clients()).isOne();

      checker.forget(ResourceID.fromResource(a));
      checker.forget(ResourceID.fromResource(b));
      assertThat(checker.openS3Clients()).as("c still holds it").isOne();
      checker.forget(ResourceID.fromResource(c));
      assertThat(checker.openS3Clients()).isZero();

      // A Secret that went: no client is built, none kept.
      client.secrets().inNamespace(ns).withName("s3").delete();
      assertThat(checker.check(ResourceID.fromResource(a), a).bucket().reason())
          .isEqualTo("SecretNotFound");
      assertThat(checker.openS3Clients()).isZero();
      checker.close();
    }
  }

  private static DisklessKafkaCluster cluster(
      KubernetesClient client, String ns, String name, String bucket, String secret) {
    DisklessKafkaCluster c =
        client
            .getKubernetesSerialization()
            .unmarshal(
                TestClusters.ORDERS
                    .replace("name: orders", "name: " + name + "\n  namespace: " + ns)
                    .replace("bucket: orders-data", "bucket: " + bucket)
                    .replace("name: s3", "name: " + secret)
                    .replace("S3_ENDPOINT", S3.endpoint()),
                DisklessKafkaCluster.class);
    return c;
  }
}
