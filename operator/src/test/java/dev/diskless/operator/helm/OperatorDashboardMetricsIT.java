package dev.diskless.operator.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import dev.diskless.operator.testing.S3ProxyServer;
import dev.diskless.operator.testing.TestClusters;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every metric of the operator that the chart's operator dashboard and rules query exists on the
 * live operator's /q/metrics: the operator reconciles an autoscaled cluster on the real API server
 * (so the Java Operator SDK's reconcile meters, the autoscaler's per-cluster meters and the
 * cluster's condition gauges exist), and every name in the operator dashboard's PromQL, and every
 * operator name ({@code diskless_operator_*}, {@code operator_sdk_*}) in the rules, must be a
 * sample of the scrape. The brokers' names are checked against a live broker by {@code
 * DashboardMetricsIT} in broker-image.
 */
@QuarkusTest
@QuarkusTestResource(KubeApiServerResource.class)
class OperatorDashboardMetricsIT {

  private static final Path CHART = ChartTest.chart();
  private static final Pattern NAME =
      Pattern.compile("\\b((?:diskless|operator_sdk|jvm|process|system)_[a-z0-9_]+)\\b");
  private static final Pattern OPERATOR_NAME =
      Pattern.compile("^(diskless_operator_|operator_sdk_)");

  /**
   * Meters the Java Operator SDK creates only when something happens that this test does not make
   * happen, each with its reason; checked instead in the SDK's own class (the meter name is there,
   * beside the started and success counters the scrape shows, named the same way).
   */
  private static final Map<String, String> LAZY =
      Map.of(
          "operator_sdk_reconciliations_failed_total",
          "counted from a cluster's first failed reconciliation (MicrometerMetrics"
              + " \"reconciliations.failed\"); the reconciles here succeed");

  private static final S3ProxyServer S3 = TestClusters.startS3();
  private static final TestClusters CLUSTERS = new TestClusters(S3);

  private static final String AUTOSCALED =
      TestClusters.ORDERS.replace(
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

  @TestHTTPResource("/q/metrics")
  URI operatorMetrics;

  @Test
  void everyOperatorMetricTheChartQueriesIsOnTheLiveOperatorsScrape() throws Exception {
    Map<String, Set<String>> used = operatorNamesUsedByTheChart();
    assertThat(used).as("operator metric names in the chart").hasSizeGreaterThan(5);
    String ns;
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      ns = CLUSTERS.create(client, AUTOSCALED);
    }
    String namespace = ns;
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(scrape())
                    .contains("diskless_operator_autoscaling_desired_brokers{")
                    // Set by the first reconcile after the bucket and database checks answered.
                    .contains("diskless_operator_cluster_condition{")
                    .contains("operator_sdk_reconciliations_success_total{")
                    .contains("namespace=\"" + namespace + "\""));
    String body = scrape();
    Path out = Path.of("target", "dashboard-metrics");
    Files.createDirectories(out);
    Files.writeString(out.resolve("operator-scrape.txt"), body);
    Set<String> exported =
        body.lines()
            .filter(l -> !l.isBlank() && !l.startsWith("#"))
            .map(l -> l.split("[{ ]", 2)[0])
            .collect(Collectors.toCollection(TreeSet::new));
    Map<String, Set<String>> missing = new TreeMap<>(used);
    missing.keySet().removeAll(exported);
    missing.keySet().removeAll(LAZY.keySet());
    // The lazy ones: named in the SDK's meter binder, as the scraped started/success are.
    assertThat(exported)
        .contains(
            "operator_sdk_reconciliations_started_total",
            "operator_sdk_reconciliations_success_total");
    try (var in =
        io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics.class
            .getResourceAsStream("MicrometerMetrics.class")) {
      String bytes = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
      for (String lazy : LAZY.keySet()) {
        String meter =
            lazy.substring("operator_sdk_".length(), lazy.length() - "_total".length())
                .replace('_', '.');
        assertThat(bytes).as(lazy + ": " + LAZY.get(lazy)).contains(meter);
      }
    }
    assertThat(missing)
        .as(
            "operator metrics the chart queries that the operator does not export (scrape in"
                + " target/dashboard-metrics/operator-scrape.txt)")
        .isEmpty();
    System.out.printf(
        "operator dashboard metrics: %d names used by the chart, all among the %d sample names of"
            + " a live scrape%n",
        used.size(), exported.size());
  }

  private String scrape() throws Exception {
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(operatorMetrics).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** Every name in the operator dashboard's PromQL; operator names in the rules template. */
  static Map<String, Set<String>> operatorNamesUsedByTheChart() throws Exception {
    Map<String, Set<String>> used = new TreeMap<>();
    String dashboard =
        Files.readString(CHART.resolve("dashboards").resolve("diskless-operator.json"));
    Matcher q =
        Pattern.compile("\"(?:expr|query)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(dashboard);
    while (q.find()) {
      Matcher m = NAME.matcher(q.group(1));
      while (m.find()) {
        used.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add("diskless-operator.json");
      }
    }
    Matcher m =
        NAME.matcher(Files.readString(CHART.resolve("templates").resolve("prometheusrule.yaml")));
    while (m.find()) {
      if (OPERATOR_NAME.matcher(m.group(1)).find()) {
        used.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add("prometheusrule.yaml");
      }
    }
    return used;
  }
}
