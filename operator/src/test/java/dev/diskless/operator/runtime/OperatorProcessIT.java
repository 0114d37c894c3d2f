package dev.diskless.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import dev.diskless.operator.testing.OperatorProcess;
import dev.diskless.operator.testing.S3ProxyServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged operator as two processes, as the chart's Deployment runs it with two replicas: only
 * the lease holder reconciles; the leader killed with SIGKILL in the middle of reconciling a batch
 * of clusters is replaced by the standby, and every cluster converges; restarted, the old leader
 * stays standby. Also reads the operator's /q/metrics and its memory.
 */
class OperatorProcessIT {

  private static final String LEASE_NAMESPACE = "diskless-system";
  private static final Duration LEASE = Duration.ofSeconds(4);
  private static final int CLUSTERS = 12;

  private static S3ProxyServer s3;
  private static String token;

  @BeforeAll
  static void setUp() throws Exception {
    s3 = new S3ProxyServer();
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      KubeApiServerResource.installCrd(client);
      token = KubeApiServerResource.installChartRbac(client);
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    s3.close();
  }

  private static String holder(KubernetesClient client) {
    Lease lease = client.leases().inNamespace(LEASE_NAMESPACE).withName("diskless-operator").get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static String newCluster(KubernetesClient client, int i) {
    String ns = KubeControlPlane.get().newNamespace(client);
    client
        .secrets()
        .inNamespace(ns)
        .resource(S3ProxyServer.credentialsSecret(S3ProxyServer.ACCESS_KEY))
        .create();
    String yaml =
        """
        apiVersion: diskless.dev/v1alpha1
        kind: DisklessKafkaCluster
        metadata:
          name: orders
        spec:
          objectStore:
            bucket: process-BUCKET
            endpoint: ENDPOINT
            pathStyle: true
            credentialsSecret:
              name: s3
          metadata:
            jdbcUrl: jdbc:postgresql://127.0.0.1:1/orders
            credentialsSecret:
              name: db
        """
            .replace("BUCKET", Integer.toString(i))
            .replace("ENDPOINT", s3.endpoint());
    client
        .resource(
            client.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class))
        .inNamespace(ns)
        .create();
    return ns;
  }

  /** Every owned object exists and the status describes the current generation. */
  private static boolean converged(KubernetesClient client, String ns) {
    DisklessKafkaCluster c =
        client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").get();
    return c != null
        && c.getStatus() != null
        && c.getMetadata().getGeneration().equals(c.getStatus().observedGeneration)
        && c.getStatus().conditions.size() == 6
        && client.serviceAccounts().inNamespace(ns).withName("orders-broker").get() != null
        && client.services().inNamespace(ns).withName("orders-bootstrap").get() != null
        && client.services().inNamespace(ns).withName("orders-brokers").get() != null
        && client
                .policy()
                .v1()
                .podDisruptionBudget()
                .inNamespace(ns)
                .withName("orders-broker")
                .get()
            != null
        && client.configMaps().inNamespace(ns).withName("orders-broker-config").get() != null
        && client.apps().deployments().inNamespace(ns).withName("orders-broker").get() != null;
  }

  @Test
  void aStandbyTakesOverFromALeaderKilledMidReconcileAndEveryClusterConverges() throws Exception {
    try (KubernetesClient client = KubeControlPlane.get().adminClient();
        OperatorProcess a = OperatorProcess.start("op-a", token, LEASE_NAMESPACE, LEASE, Map.of());
        OperatorProcess b =
            OperatorProcess.start("op-b", token, LEASE_NAMESPACE, LEASE, Map.of())) {
      a.awaitStarted(Duration.ofSeconds(60));
      b.awaitStarted(Duration.ofSeconds(60));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> "op-a".equals(holder(client)) || "op-b".equals(holder(client)));
      OperatorProcess leader = "op-a".equals(holder(client)) ? a : b;
      OperatorProcess standby = leader == a ? b : a;

      List<String> namespaces = new ArrayList<>();
      for (int i = 0; i < CLUSTERS; i++) {
        namespaces.add(newCluster(client, i));
      }
      // Kill the leader as soon as it has begun: some clusters have objects, not all a status.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () ->
                  namespaces.stream()
                      .anyMatch(
                          ns ->
                              client
                                      .serviceAccounts()
                                      .inNamespace(ns)
                                      .withName("orders-broker")
                                      .get()
                                  != null));
      leader.kill();
      long killed = System.nanoTime();
      long convergedAtKill = namespaces.stream().filter(ns -> converged(client, ns)).count();
      assertThat(convergedAtKill)
          .as("the leader was killed before it had reconciled every cluster")
          .isLessThan(CLUSTERS);

      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> standby.name().equals(holder(client)));
      long takeover = (System.nanoTime() - killed) / 1_000_000;
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> namespaces.stream().allMatch(ns -> converged(client, ns)));
      long convergence = (System.nanoTime() - killed) / 1_000_000;
      System.out.printf(
          "operator failover: %d/%d clusters converged at SIGKILL of the leader; standby held the"
              + " lease after %d ms (lease %d ms); all %d converged %d ms after the kill%n",
          convergedAtKill, CLUSTERS, takeover, LEASE.toMillis(), CLUSTERS, convergence);

      // The killed replica comes back as the standby.
      try (OperatorProcess restarted =
          OperatorProcess.start(leader.name(), token, LEASE_NAMESPACE, LEASE, Map.of())) {
        restarted.awaitStarted(Duration.ofSeconds(60));
        await()
            .during(LEASE.multipliedBy(2))
            .atMost(LEASE.multipliedBy(4))
            .until(() -> standby.name().equals(holder(client)));
        assertThat(restarted.isAlive()).isTrue();
      }

      // Reconcile metrics of the Java Operator SDK, for Prometheus.
      var metrics = standby.get("/q/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
          .contains("operator_sdk_reconciliations_success_total{")
          .contains("namespace=\"" + namespaces.get(0) + "\"");
      assertThat(standby.get("/q/health/ready").statusCode()).isEqualTo(200);
      System.out.printf(
          "operator memory: RSS %d MiB after reconciling %d clusters (-Xmx256m)%n",
          standby.rssBytes() >> 20, CLUSTERS);
      System.out.println(
          "operator metrics sample:\n"
              + metrics
                  .body()
                  .lines()
                  .filter(l -> l.startsWith("operator_sdk_reconciliations"))
                  .limit(8)
                  .reduce("", (x, y) -> x + y + "\n"));
    }
  }
}
