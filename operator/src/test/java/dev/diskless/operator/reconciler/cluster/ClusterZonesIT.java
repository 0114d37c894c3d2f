package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.kube.LocalControlPlane;
import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.testing.BrokerMetricsStandIn;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import dev.diskless.operator.testing.S3ProxyServer;
import dev.diskless.operator.testing.TestClusters;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Zones on the real API server: one broker Deployment per zone with the count split evenly, each
 * pinned to its zone with the rack set; a scale-in through /scale marks every broker's deletion
 * cost before the zone with the most loses its least-loaded broker; and removing the zones brings
 * back the single Deployment, the zone ones deleted only once it runs all its brokers. No kubelet
 * runs: the test gives pods IPs, /metrics stand-ins and readiness where it needs them.
 */
@QuarkusTest
@QuarkusTestResource(KubeApiServerResource.class)
class ClusterZonesIT {

  private static final S3ProxyServer S3 = TestClusters.startS3();
  private static final TestClusters CLUSTERS = new TestClusters(S3);

  private static Map<String, Integer> brokerDeployments(KubernetesClient client, String ns) {
    return client.apps().deployments().inNamespace(ns).list().getItems().stream()
        .filter(d -> d.getMetadata().getDeletionTimestamp() == null)
        .collect(
            Collectors.toMap(
                d -> d.getMetadata().getName(),
                d -> d.getSpec().getReplicas(),
                (a, b) -> a,
                TreeMap::new));
  }

  private static List<Pod> pods(KubernetesClient client, String ns) {
    return client
        .pods()
        .inNamespace(ns)
        .withLabel("app.kubernetes.io/instance", "orders")
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  private static String zone(Pod p) {
    return p.getMetadata().getLabels().getOrDefault(BrokerZones.ZONE_LABEL, "");
  }

  private static void edit(
      KubernetesClient client, String ns, UnaryOperator<DisklessKafkaCluster> f) {
    for (int attempt = 1; ; attempt++) {
      try {
        client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").edit(f);
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  /** Plays the kubelet for one pod: its IP and, if {@code ready}, Running and Ready. */
  private static void run(KubernetesClient client, String ns, Pod pod, String ip, boolean ready) {
    client
        .pods()
        .inNamespace(ns)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              p.getStatus().setPodIP(ip);
              p.getStatus().setPodIPs(List.of(new PodIP(ip)));
              if (ready) {
                p.getStatus().setPhase("Running");
                String now = Instant.now().toString();
                p.getStatus()
                    .setConditions(
                        List.of(
                            new PodConditionBuilder()
                                .withType("Ready")
                                .withStatus("True")
                                .withLastTransitionTime(now)
                                .build(),
                            new PodConditionBuilder()
                                .withType("ContainersReady")
                                .withStatus("True")
                                .withLastTransitionTime(now)
                                .build()));
              }
              return p;
            });
  }

  @Test
  void zonesSplitTheBrokersScaleInEvenlyAndGoBackToOneDeployment() throws Exception {
    int port = LocalControlPlane.freePort();
    List<BrokerMetricsStandIn> servers = new ArrayList<>();
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns =
          CLUSTERS.create(
              client,
              TestClusters.ORDERS.replace(
                  "spec:\n",
                  "spec:\n  listeners:\n    httpPort: "
                      + port
                      + "\n  brokers:\n    replicas: 4\n    zones: [a, b, c]\n"));
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(brokerDeployments(client, ns))
                    .isEqualTo(
                        Map.of("orders-broker-a", 2, "orders-broker-b", 1, "orders-broker-c", 1));
                assertThat(pods(client, ns)).hasSize(4);
                DisklessKafkaCluster c =
                    client
                        .resources(DisklessKafkaCluster.class)
                        .inNamespace(ns)
                        .withName("orders")
                        .get();
                assertThat(c.getStatus().replicas).isEqualTo(4);
              });
      for (String z : List.of("a", "b", "c")) {
        Deployment d =
            client.apps().deployments().inNamespace(ns).withName("orders-broker-" + z).get();
        assertThat(d.getSpec().getSelector().getMatchLabels())
            .containsEntry(BrokerZones.ZONE_LABEL, z)
            .containsEntry("app.kubernetes.io/instance", "orders");
        var pod = d.getSpec().getTemplate();
        assertThat(pod.getMetadata().getLabels()).containsEntry(BrokerZones.ZONE_LABEL, z);
        NodeSelectorRequirement required =
            pod.getSpec()
                .getAffinity()
                .getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms()
                .getFirst()
                .getMatchExpressions()
                .getFirst();
        assertThat(required.getKey()).isEqualTo("topology.kubernetes.io/zone");
        assertThat(required.getOperator()).isEqualTo("In");
        assertThat(required.getValues()).containsExactly(z);
        assertThat(pod.getSpec().getContainers().getFirst().getEnv())
            .filteredOn(e -> e.getName().equals("DISKLESS_RACK"))
            .extracting(EnvVar::getValue)
            .containsExactly(z);
      }
      assertThat(pods(client, ns)).extracting(ClusterZonesIT::zone).containsOnly("a", "b", "c");

      // The brokers' partitions: zone a's own 7 and 3, b's 5, c's 9.
      Map<String, long[]> owned =
          Map.of("a", new long[] {7, 3}, "b", new long[] {5}, "c", new long[] {9});
      Map<String, Integer> seenInZone = new TreeMap<>();
      Map<String, String> partitionsByPod = new TreeMap<>();
      int host = 71;
      for (Pod p : pods(client, ns)) {
        int i = seenInZone.merge(zone(p), 1, Integer::sum) - 1;
        long n = owned.get(zone(p))[i];
        String ip = "127.0.0." + host++;
        servers.add(new BrokerMetricsStandIn(ip, port, n));
        run(client, ns, p, ip, false);
        partitionsByPod.put(p.getMetadata().getName(), Long.toString(n));
      }

      // kubectl scale --replicas=3: zone a (the most) shrinks, losing its least-loaded broker,
      // after every broker's cost was set.
      client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").scale(3);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(brokerDeployments(client, ns))
                    .isEqualTo(
                        Map.of("orders-broker-a", 1, "orders-broker-b", 1, "orders-broker-c", 1));
                Map<String, String> costs = new TreeMap<>();
                for (Pod p : pods(client, ns)) {
                  costs.put(
                      zone(p), p.getMetadata().getAnnotations().get(BrokerDeletionCost.ANNOTATION));
                }
                assertThat(costs).isEqualTo(Map.of("a", "7", "b", "5", "c", "9"));
              });

      // Zones removed: the single Deployment comes back; the zone ones stay while its brokers
      // are not available (make before break) ...
      edit(
          client,
          ns,
          x -> {
            x.getSpec().brokers.zones = null;
            return x;
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(pods(client, ns).stream().filter(p -> zone(p).isEmpty())).hasSize(3));
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(brokerDeployments(client, ns))
                      .isEqualTo(
                          Map.of(
                              "orders-broker", 3,
                              "orders-broker-a", 1,
                              "orders-broker-b", 1,
                              "orders-broker-c", 1)));
      Deployment single =
          client.apps().deployments().inNamespace(ns).withName("orders-broker").get();
      assertThat(single.getSpec().getSelector().getMatchLabels())
          .doesNotContainKey(BrokerZones.ZONE_LABEL);
      assertThat(single.getSpec().getTemplate().getSpec().getAffinity()).isNull();
      assertThat(single.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv())
          .filteredOn(e -> e.getName().equals("DISKLESS_RACK"))
          .singleElement()
          .satisfies(
              e ->
                  assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                      .isEqualTo("metadata.labels['topology.kubernetes.io/zone']"));

      // ... and go once its three brokers are ready.
      for (Pod p : pods(client, ns)) {
        if (zone(p).isEmpty()) {
          run(client, ns, p, "127.0.0." + host++, true);
        }
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(brokerDeployments(client, ns)).isEqualTo(Map.of("orders-broker", 3));
                assertThat(pods(client, ns)).extracting(ClusterZonesIT::zone).containsOnly("");
                DisklessKafkaCluster c =
                    client
                        .resources(DisklessKafkaCluster.class)
                        .inNamespace(ns)
                        .withName("orders")
                        .get();
                assertThat(c.getStatus().replicas).isEqualTo(3);
                assertThat(c.getStatus().readyBrokers).isEqualTo(3);
              });
    } finally {
      servers.forEach(BrokerMetricsStandIn::close);
    }
  }
}
