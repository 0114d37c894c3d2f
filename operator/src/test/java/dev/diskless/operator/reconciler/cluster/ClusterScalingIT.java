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
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Scaling on the real API server: the /scale subresource (what kubectl scale, an HPA and KEDA use)
 * changes the brokers' Deployment, and with autoscaling on the autoscaler's count lives in the
 * status, drives the Deployment and leaves the spec alone. No kubelet runs, so broker pods never
 * start and no CPU is sampled here; the bounds still apply.
 */
@QuarkusTest
@QuarkusTestResource(KubeApiServerResource.class)
class ClusterScalingIT {

  private static final S3ProxyServer S3 = TestClusters.startS3();
  private static final TestClusters CLUSTERS = new TestClusters(S3);

  @TestHTTPResource("/q/metrics")
  java.net.URI operatorMetrics;

  /** The operator's own metric for this cluster, from its Prometheus endpoint. */
  private double operatorMetric(String name, String ns, String extraLabel) throws Exception {
    String body =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(operatorMetrics).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    return body.lines()
        .filter(l -> l.startsWith(name + "{"))
        .filter(l -> l.contains("namespace=\"" + ns + "\"") && l.contains(extraLabel))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " for " + ns + " not exported"));
  }

  private static final String CLUSTER = TestClusters.ORDERS;

  private static DisklessKafkaCluster cluster(KubernetesClient client, String ns) {
    return client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").get();
  }

  private static Deployment brokers(KubernetesClient client, String ns) {
    return client.apps().deployments().inNamespace(ns).withName("orders-broker").get();
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

  @Test
  void theScaleSubresourceScalesTheBrokersBothWays() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = CLUSTERS.create(client, CLUSTER);
      var resource =
          client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders");
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                // What an HPA reads: the spec's count, the status's count and the pods' selector.
                Scale scale = resource.scale();
                assertThat(scale.getSpec().getReplicas()).isEqualTo(3);
                assertThat(scale.getStatus().getReplicas()).isEqualTo(3);
                assertThat(scale.getStatus().getSelector())
                    .isEqualTo(
                        "app.kubernetes.io/component=broker,app.kubernetes.io/instance=orders,"
                            + "app.kubernetes.io/name=diskless-kafka");
                assertThat(
                        client
                            .pods()
                            .inNamespace(ns)
                            .withLabelSelector(
                                new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
                                    .withMatchLabels(
                                        java.util.Map.of(
                                            "app.kubernetes.io/component", "broker",
                                            "app.kubernetes.io/instance", "orders",
                                            "app.kubernetes.io/name", "diskless-kafka"))
                                    .build())
                            .list()
                            .getItems())
                    .hasSize(3);
              });

      // kubectl scale dkc/orders --replicas=4: a write to the scale subresource.
      resource.scale(4);
      assertThat(cluster(client, ns).getSpec().brokers.replicas).isEqualTo(4);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(brokers(client, ns).getSpec().getReplicas()).isEqualTo(4);
                assertThat(pods(client, ns)).hasSize(4);
                assertThat(resource.scale().getStatus().getReplicas()).isEqualTo(4);
              });

      // And in: the Deployment shrinks (after the deletion costs, see BrokerDeletionCost).
      resource.scale(2);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(brokers(client, ns).getSpec().getReplicas()).isEqualTo(2);
                assertThat(pods(client, ns)).hasSize(2);
                assertThat(resource.scale().getStatus().getReplicas()).isEqualTo(2);
              });
    }
  }

  private static final String AUTOSCALED =
      CLUSTER.replace(
          "spec:\n",
          """
          spec:
            brokers:
              replicas: 1
              resources:
                requests:
                  cpu: 500m
            autoscaling:
              enabled: true
              minBrokers: 2
              maxBrokers: 5
          """);

  @Test
  void theAutoscalersCountLivesInTheStatusAndDrivesTheBrokersWithoutTouchingTheSpec() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = CLUSTERS.create(client, AUTOSCALED);
      // The spec's count is the starting count, within the bounds.
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                DisklessKafkaCluster c = cluster(client, ns);
                assertThat(c.getStatus().autoscaling.desiredBrokers).isEqualTo(2);
                assertThat(c.getStatus().autoscaling.lastScaleTime).isNull();
                // No broker runs here, so there is no CPU to report.
                assertThat(c.getStatus().autoscaling.currentCpuUtilization).isNull();
                assertThat(brokers(client, ns).getSpec().getReplicas()).isEqualTo(2);
                assertThat(c.getStatus().replicas).isEqualTo(2);
              });

      // Raised bounds apply at once, as a scale decision with its Event.
      edit(
          client,
          ns,
          x -> {
            x.getSpec().autoscaling.minBrokers = 3;
            return x;
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                DisklessKafkaCluster c = cluster(client, ns);
                assertThat(c.getStatus().autoscaling.desiredBrokers).isEqualTo(3);
                assertThat(c.getStatus().autoscaling.lastScaleDirection).isEqualTo("Up");
                assertThat(c.getStatus().autoscaling.lastScaleReason)
                    .isEqualTo("2 brokers is below minBrokers 3");
                assertThat(c.getStatus().autoscaling.lastScaleTime).isNotNull();
                assertThat(brokers(client, ns).getSpec().getReplicas()).isEqualTo(3);
              });
      DisklessKafkaCluster c = cluster(client, ns);
      // GitOps: the spec is the user's; the operator never wrote it.
      assertThat(c.getSpec().brokers.replicas).isEqualTo(1);
      assertThat(c.getMetadata().getGeneration()).isEqualTo(2L);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(
                          client
                              .v1()
                              .events()
                              .inNamespace(ns)
                              .withField("involvedObject.name", "orders")
                              .list()
                              .getItems())
                      .anySatisfy(
                          e -> {
                            assertThat(e.getReason()).isEqualTo("ScaledOut");
                            assertThat(e.getMessage())
                                .isEqualTo("3 brokers: 2 brokers is below minBrokers 3");
                            assertThat(e.getInvolvedObject().getUid())
                                .isEqualTo(c.getMetadata().getUid());
                          }));

      // kubectl scale with the autoscaler on changes the spec's starting count only.
      client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").scale(5);
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> assertThat(brokers(client, ns).getSpec().getReplicas()).isEqualTo(3));

      // Autoscaling off: the spec's count rules again and the autoscaler's report goes.
      edit(
          client,
          ns,
          x -> {
            x.getSpec().autoscaling.enabled = false;
            return x;
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(brokers(client, ns).getSpec().getReplicas()).isEqualTo(5);
                assertThat(cluster(client, ns).getStatus().autoscaling).isNull();
              });
    }
  }

  /**
   * Gives each broker pod a loopback address of its own as its IP and a metrics stand-in there,
   * owning the given partitions; returns the pod names in order.
   */
  private static List<String> serveMetrics(
      KubernetesClient client,
      String ns,
      int port,
      int firstHost,
      long[] owned,
      List<BrokerMetricsStandIn> servers)
      throws Exception {
    return serveMetrics(client, ns, port, firstHost, owned, servers, false);
  }

  /** As above; {@code ready} also reports the pods Running and Ready, as a kubelet would. */
  private static List<String> serveMetrics(
      KubernetesClient client,
      String ns,
      int port,
      int firstHost,
      long[] owned,
      List<BrokerMetricsStandIn> servers,
      boolean ready)
      throws Exception {
    List<String> names = new ArrayList<>();
    List<Pod> pods = pods(client, ns);
    for (int i = 0; i < pods.size(); i++) {
      String ip = "127.0.0." + (firstHost + i);
      String name = pods.get(i).getMetadata().getName();
      servers.add(new BrokerMetricsStandIn(ip, port, owned[i]));
      client
          .pods()
          .inNamespace(ns)
          .withName(name)
          .editStatus(
              p -> {
                p.getStatus().setPodIP(ip);
                p.getStatus().setPodIPs(List.of(new PodIP(ip)));
                if (ready) {
                  p.getStatus().setPhase("Running");
                  String now = java.time.Instant.now().toString();
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
      names.add(name);
    }
    return names;
  }

  @Test
  void aScaleInThroughTheSubresourceRemovesTheLeastLoadedBroker() throws Exception {
    int port = LocalControlPlane.freePort();
    List<BrokerMetricsStandIn> servers = new ArrayList<>();
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns =
          CLUSTERS.create(
              client,
              CLUSTER.replace("spec:\n", "spec:\n  listeners:\n    httpPort: " + port + "\n"));
      await().atMost(Duration.ofSeconds(60)).until(() -> pods(client, ns).size() == 3);
      List<String> names = serveMetrics(client, ns, port, 41, new long[] {7, 3, 9}, servers);

      client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").scale(2);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                Map<String, String> costs = new TreeMap<>();
                for (Pod p : pods(client, ns)) {
                  costs.put(
                      p.getMetadata().getName(),
                      p.getMetadata().getAnnotations().get(BrokerDeletionCost.ANNOTATION));
                }
                // The broker owning 3 partitions went; the others carry their deletion cost.
                assertThat(costs)
                    .isEqualTo(new TreeMap<>(Map.of(names.get(0), "7", names.get(2), "9")));
              });
    } finally {
      servers.forEach(BrokerMetricsStandIn::close);
    }
  }

  @Test
  void theAutoscalerScalesOutOnTheBrokersMeasuredCpu() throws Exception {
    int port = LocalControlPlane.freePort();
    List<BrokerMetricsStandIn> servers = new ArrayList<>();
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      // A CPU request of one millicore: this JVM's own CPU use is far above 60 % of it.
      String ns =
          CLUSTERS.create(
              client,
              AUTOSCALED
                  .replace("cpu: 500m", "cpu: 1m")
                  .replace(
                      "maxBrokers: 5\n",
                      "maxBrokers: 4\n    scaleUp:\n      stabilizationWindowSeconds: 0\n")
                  .replace("spec:\n", "spec:\n  listeners:\n    httpPort: " + port + "\n"));
      await().atMost(Duration.ofSeconds(60)).until(() -> pods(client, ns).size() == 2);
      serveMetrics(client, ns, port, 51, new long[] {0, 0}, servers);
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                DisklessKafkaCluster c = cluster(client, ns);
                assertThat(c.getStatus().autoscaling.desiredBrokers).isEqualTo(4);
                assertThat(c.getStatus().autoscaling.lastScaleDirection).isEqualTo("Up");
                // One broker or both may have had their two readings by then.
                assertThat(c.getStatus().autoscaling.lastScaleReason)
                    .matches(
                        "CPU \\d+% of request on [12] brokers, target 60% for 0 s: 2 -> 4 brokers");
                assertThat(c.getStatus().autoscaling.currentCpuUtilization).isGreaterThan(60);
                // No metrics.k8s.io on this API server: the brokers' own /metrics only.
                assertThat(c.getStatus().autoscaling.cpuSource).isEqualTo("Broker");
                assertThat(brokers(client, ns).getSpec().getReplicas()).isEqualTo(4);
              });
      assertThat(cluster(client, ns).getSpec().brokers.replicas).isEqualTo(1);
      // The decision's inputs and outputs on the operator's /q/metrics.
      assertThat(operatorMetric("diskless_operator_autoscaling_desired_brokers", ns, ""))
          .isEqualTo(4);
      assertThat(operatorMetric("diskless_operator_autoscaling_target_cpu_utilization", ns, ""))
          .isEqualTo(60);
      assertThat(operatorMetric("diskless_operator_autoscaling_cpu_utilization", ns, ""))
          .isGreaterThan(60);
      assertThat(
              operatorMetric(
                  "diskless_operator_autoscaling_source_cpu_utilization", ns, "source=\"broker\""))
          .isGreaterThan(60);
      assertThat(
              operatorMetric(
                  "diskless_operator_autoscaling_source_cpu_utilization",
                  ns,
                  "source=\"pod-metrics\""))
          .isNaN();
      assertThat(operatorMetric("diskless_operator_autoscaling_measured_brokers", ns, ""))
          .isBetween(1.0, 4.0);
      assertThat(
              operatorMetric(
                  "diskless_operator_autoscaling_scale_decisions_total", ns, "direction=\"Up\""))
          .isEqualTo(1);
    } finally {
      servers.forEach(BrokerMetricsStandIn::close);
    }
  }

  @Test
  void theAutoscalerScalesInOneLeastLoadedBrokerAtATime() throws Exception {
    int port = LocalControlPlane.freePort();
    List<BrokerMetricsStandIn> servers = new ArrayList<>();
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      // 64 cores requested: this JVM's CPU use is far below 60 % of it, so 2 brokers would do.
      String ns =
          CLUSTERS.create(
              client,
              AUTOSCALED
                  .replace("replicas: 1", "replicas: 4")
                  .replace("cpu: 500m", "cpu: \"64\"")
                  .replace(
                      "maxBrokers: 5\n",
                      "maxBrokers: 4\n    scaleDown:\n      stabilizationWindowSeconds: 0\n")
                  .replace("spec:\n", "spec:\n  listeners:\n    httpPort: " + port + "\n"));
      await().atMost(Duration.ofSeconds(60)).until(() -> pods(client, ns).size() == 4);
      long started = System.nanoTime();
      // The test plays the kubelet: the brokers report ready, so the Deployment settles.
      List<String> names =
          serveMetrics(client, ns, port, 61, new long[] {5, 2, 8, 1}, servers, true);
      List<Integer> replicas = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(
              () -> {
                // Pods first: when two are left, the Deployment read after them says 2.
                List<String> left =
                    pods(client, ns).stream().map(p -> p.getMetadata().getName()).toList();
                int r = brokers(client, ns).getSpec().getReplicas();
                if (replicas.isEmpty() || replicas.getLast() != r) {
                  replicas.add(r);
                }
                assertThat(left).containsExactlyInAnyOrder(names.get(0), names.get(2));
                assertThat(r).isEqualTo(2);
              });
      System.out.printf(
          "autoscaler scale-in 4 -> 2: %d ms, Deployment replicas seen %s%n",
          (System.nanoTime() - started) / 1_000_000, replicas);
      // One broker per step: the Deployment went through 3; the brokers owning 1 and then 2
      // partitions went, in that order.
      assertThat(replicas).containsSubsequence(4, 3, 2);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(
                          client
                              .v1()
                              .events()
                              .inNamespace(ns)
                              .withField("involvedObject.name", "orders")
                              .list()
                              .getItems())
                      .filteredOn(e -> e.getReason().equals("ScaledIn"))
                      .extracting(e -> e.getMessage().replaceAll(".*: ", ""))
                      .containsExactlyInAnyOrder(
                          "4 -> 3 brokers (one per step)", "3 -> 2 brokers (one per step)"));
      DisklessKafkaCluster c = cluster(client, ns);
      assertThat(c.getStatus().autoscaling.desiredBrokers).isEqualTo(2);
      assertThat(c.getStatus().autoscaling.lastScaleDirection).isEqualTo("Down");
      assertThat(c.getSpec().brokers.replicas).isEqualTo(4);
    } finally {
      servers.forEach(BrokerMetricsStandIn::close);
    }
  }
}
