package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator, running in Quarkus, against a real kube-apiserver: a DisklessKafkaCluster gets its
 * ServiceAccount, Services and PodDisruptionBudget, owned by it, and a status; a reconcile that
 * changes nothing writes nothing.
 */
@QuarkusTest
@QuarkusTestResource(KubeApiServerResource.class)
class ClusterReconcileIT {

  private static final String CLUSTER =
      """
      apiVersion: diskless.dev/v1alpha1
      kind: DisklessKafkaCluster
      metadata:
        name: orders
      spec:
        objectStore:
          bucket: orders-data
        metadata:
          jdbcUrl: jdbc:postgresql://db:5432/orders
          credentialsSecret:
            name: db
      """;

  @Test
  void aClusterGetsItsObjectsAndAStatus() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = KubeControlPlane.get().newNamespace(client);
      GenericKubernetesResource created =
          client
              .resource(
                  client
                      .getKubernetesSerialization()
                      .unmarshal(CLUSTER, GenericKubernetesResource.class))
              .inNamespace(ns)
              .create();
      String uid = created.getMetadata().getUid();

      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                ServiceAccount sa =
                    client.serviceAccounts().inNamespace(ns).withName("orders-broker").get();
                Service bootstrap =
                    client.services().inNamespace(ns).withName("orders-bootstrap").get();
                Service headless =
                    client.services().inNamespace(ns).withName("orders-brokers").get();
                PodDisruptionBudget pdb =
                    client
                        .policy()
                        .v1()
                        .podDisruptionBudget()
                        .inNamespace(ns)
                        .withName("orders-broker")
                        .get();
                for (HasMetadata o : List.of(sa, bootstrap, headless, pdb)) {
                  assertThat(o.getMetadata().getOwnerReferences())
                      .singleElement()
                      .satisfies(r -> assertThat(r.getUid()).isEqualTo(uid));
                  assertThat(o.getMetadata().getLabels())
                      .containsEntry("app.kubernetes.io/instance", "orders")
                      .containsEntry("app.kubernetes.io/managed-by", "diskless-operator");
                }
                assertThat(sa.getAutomountServiceAccountToken()).isFalse();
                assertThat(bootstrap.getSpec().getPorts())
                    .singleElement()
                    .satisfies(p -> assertThat(p.getPort()).isEqualTo(9092));
                assertThat(bootstrap.getSpec().getSelector())
                    .isEqualTo(
                        Map.of(
                            "app.kubernetes.io/name", "diskless-kafka",
                            "app.kubernetes.io/instance", "orders",
                            "app.kubernetes.io/component", "broker"));
                assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
                assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
                assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);

                DisklessKafkaCluster c =
                    client
                        .resources(DisklessKafkaCluster.class)
                        .inNamespace(ns)
                        .withName("orders")
                        .get();
                assertThat(c.getStatus()).isNotNull();
                assertThat(c.getStatus().observedGeneration)
                    .isEqualTo(c.getMetadata().getGeneration());
                assertThat(c.getStatus().bootstrapServers)
                    .isEqualTo("orders-bootstrap." + ns + ".svc:9092");
                assertThat(c.getStatus().conditions)
                    .singleElement()
                    .satisfies(
                        cond -> {
                          assertThat(cond.getType()).isEqualTo("Ready");
                          assertThat(cond.getStatus()).isEqualTo("False");
                          assertThat(cond.getReason()).isEqualTo("BrokersNotDeployed");
                        });
              });

      // Nothing changes: a reconcile forced by an annotation on the cluster writes nothing, neither
      // to the owned objects nor to the status.
      Map<String, String> versions = versions(client, ns);
      DisklessKafkaCluster nudged =
          client
              .resources(DisklessKafkaCluster.class)
              .inNamespace(ns)
              .withName("orders")
              .edit(
                  x -> {
                    x.getMetadata().getAnnotations().put("test/nudge", "1");
                    return x;
                  });
      String clusterVersion = nudged.getMetadata().getResourceVersion();
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(versions(client, ns)).isEqualTo(versions);
                assertThat(
                        client
                            .resources(DisklessKafkaCluster.class)
                            .inNamespace(ns)
                            .withName("orders")
                            .get()
                            .getMetadata()
                            .getResourceVersion())
                    .isEqualTo(clusterVersion);
              });
    }
  }

  private static Map<String, String> versions(KubernetesClient client, String ns) {
    return Map.of(
        "sa",
            client
                .serviceAccounts()
                .inNamespace(ns)
                .withName("orders-broker")
                .get()
                .getMetadata()
                .getResourceVersion(),
        "bootstrap",
            client
                .services()
                .inNamespace(ns)
                .withName("orders-bootstrap")
                .get()
                .getMetadata()
                .getResourceVersion(),
        "headless",
            client
                .services()
                .inNamespace(ns)
                .withName("orders-brokers")
                .get()
                .getMetadata()
                .getResourceVersion(),
        "pdb",
            client
                .policy()
                .v1()
                .podDisruptionBudget()
                .inNamespace(ns)
                .withName("orders-broker")
                .get()
                .getMetadata()
                .getResourceVersion());
  }
}
