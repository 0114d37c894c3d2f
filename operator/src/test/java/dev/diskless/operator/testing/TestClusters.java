package dev.diskless.operator.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The cluster the reconciler tests apply ({@link #ORDERS}, with {@code S3_ENDPOINT} standing for
 * the test's S3Proxy), and how they put one in a fresh namespace next to the S3 credentials Secret
 * it names.
 */
public final class TestClusters {

  public static final String ORDERS =
      """
      apiVersion: diskless.dev/v1alpha1
      kind: DisklessKafkaCluster
      metadata:
        name: orders
      spec:
        objectStore:
          bucket: orders-data
          endpoint: S3_ENDPOINT
          pathStyle: true
          credentialsSecret:
            name: s3
        metadata:
          jdbcUrl: jdbc:postgresql://db:5432/orders
          credentialsSecret:
            name: db
      """;

  private final S3ProxyServer s3;

  public TestClusters(S3ProxyServer s3) {
    this.s3 = s3;
  }

  /** An S3Proxy for a test class, or an error that says it could not start. */
  public static S3ProxyServer startS3() {
    try {
      return new S3ProxyServer();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start S3Proxy", e);
    }
  }

  /** A namespace with the S3 credentials Secret the clusters name. */
  public String namespace(KubernetesClient client, String accessKey) {
    String ns = KubeControlPlane.get().newNamespace(client);
    client.secrets().inNamespace(ns).resource(S3ProxyServer.credentialsSecret(accessKey)).create();
    return ns;
  }

  /** Creates the cluster {@code yaml} describes in {@code ns}. */
  public void apply(KubernetesClient client, String ns, String yaml) {
    client
        .resource(
            client
                .getKubernetesSerialization()
                .unmarshal(
                    yaml.replace("S3_ENDPOINT", s3.endpoint()), GenericKubernetesResource.class))
        .inNamespace(ns)
        .create();
  }

  /** Creates the cluster in a new namespace with valid credentials; returns the namespace. */
  public String create(KubernetesClient client, String yaml) {
    String ns = namespace(client, S3ProxyServer.ACCESS_KEY);
    apply(client, ns, yaml);
    return ns;
  }
}
