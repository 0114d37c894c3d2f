package dev.diskless.operator.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** helm lint and helm template of the operator's chart, through helm-java (no helm binary). */
class ChartTest {

  static Path chart() {
    return Path.of(System.getProperty("chart.dir", "../helm/diskless-operator"));
  }

  @Test
  void theChartLintsAndRenders() {
    LintResult lint = new Helm(chart()).lint().strict().call();
    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    String rendered =
        new Helm(chart()).template().withName("diskless").withNamespace("diskless-system").call();
    assertThat(rendered).contains("kind: ClusterRole").contains("kind: Deployment");
  }

  /**
   * One version: the chart's appVersion is the operator's Maven version, and the broker image the
   * chart hands the operator defaults to it.
   */
  @Test
  void theChartCarriesTheOperatorsVersion() throws Exception {
    String version = dev.diskless.operator.reconciler.cluster.BrokerImage.version();
    assertThat(version).doesNotContain("${");
    Map<String, Object> chart = new Yaml().load(Files.readString(chart().resolve("Chart.yaml")));
    assertThat(chart.get("appVersion")).as("Chart.yaml appVersion").isEqualTo(version);
    assertThat(render(Map.of()))
        .contains("image: \"diskless/operator:" + version + "\"")
        .contains("value: \"diskless/broker:" + version + "\"");
    assertThat(render(Map.of("brokerImage.tag", "1.2.3")))
        .contains("value: \"diskless/broker:1.2.3\"");
    assertThat(
            dev.diskless.operator.reconciler.cluster.BrokerImage.defaultImage(
                Map.of("DISKLESS_BROKER_IMAGE", "registry.example.com/broker:9")))
        .isEqualTo("registry.example.com/broker:9");
    assertThat(dev.diskless.operator.reconciler.cluster.BrokerImage.defaultImage(Map.of()))
        .isEqualTo("diskless/broker:" + version);
  }

  private static String render(Map<String, String> values) {
    var template =
        new Helm(chart()).template().withName("diskless").withNamespace("diskless-system");
    values.forEach(template::set);
    return template.call();
  }

  @Test
  void theMonitoringTogglesAreOffByDefault() {
    String rendered = render(Map.of());
    assertThat(rendered)
        .doesNotContain("kind: PodMonitor")
        .doesNotContain("kind: PrometheusRule")
        .doesNotContain("kind: ServiceMonitor")
        .doesNotContain("grafana_dashboard");
  }

  @Test
  void eachMonitoringToggleRendersAndLints() throws Exception {
    Map<String, String> all =
        Map.of(
            "dashboards.enabled", "true",
            "prometheusRules.enabled", "true",
            "podMonitor.enabled", "true",
            "serviceMonitor.enabled", "true");
    LintResult lint = new Helm(chart()).lint().strict().call();
    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    for (var toggle : all.entrySet()) {
      assertThat(render(Map.of(toggle.getKey(), "true"))).as(toggle.getKey()).isNotBlank();
    }
    List<Map<String, Object>> docs = new java.util.ArrayList<>();
    for (Object o : new Yaml().loadAll(render(all))) {
      if (o != null) {
        docs.add(cast(o));
      }
    }

    // One ConfigMap per dashboard file, labelled for the Grafana sidecar, holding the file as is.
    List<Path> dashboards;
    try (Stream<Path> files = Files.list(chart().resolve("dashboards"))) {
      dashboards = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    List<Map<String, Object>> configMaps =
        docs.stream()
            .filter(d -> "ConfigMap".equals(d.get("kind")))
            .filter(d -> "1".equals(labels(d).get("grafana_dashboard")))
            .toList();
    assertThat(configMaps).hasSameSizeAs(dashboards).hasSizeGreaterThanOrEqualTo(5);
    for (Path file : dashboards) {
      String name = file.getFileName().toString();
      Map<String, Object> cm =
          configMaps.stream()
              .filter(d -> cast(d.get("data")).containsKey(name))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no ConfigMap holds " + name));
      assertThat(cast(d(cm, "data")).get(name)).isEqualTo(Files.readString(file).strip());
    }

    // The PodMonitor selects broker pods by the labels the operator puts on them, port http.
    Map<String, Object> podMonitor = only(docs, "PodMonitor");
    assertThat(cast(cast(d(podMonitor, "spec")).get("selector")).get("matchLabels"))
        .isEqualTo(
            Map.of(
                "app.kubernetes.io/name", "diskless-kafka",
                "app.kubernetes.io/component", "broker",
                "app.kubernetes.io/managed-by", "diskless-operator"));
    Map<String, Object> endpoint =
        cast(((List<?>) cast(d(podMonitor, "spec")).get("podMetricsEndpoints")).get(0));
    assertThat(endpoint).containsEntry("port", "http").containsEntry("path", "/metrics");

    // The ServiceMonitor keeps the operator's namespace label (the cluster's, not the target's).
    Map<String, Object> serviceMonitor = only(docs, "ServiceMonitor");
    Map<String, Object> smEndpoint =
        cast(((List<?>) cast(d(serviceMonitor, "spec")).get("endpoints")).get(0));
    assertThat(smEndpoint).containsEntry("path", "/q/metrics").containsEntry("honorLabels", true);

    // The rules: thresholds from values.
    Map<String, Object> rule = only(docs, "PrometheusRule");
    assertThat(rule).containsEntry("apiVersion", "monitoring.coreos.com/v1");
    assertThat(render(all))
        .contains("diskless_wal_unflushed_bytes) > 33554432")
        .contains("diskless_consumer_group_lag_records{group=~\".+\"}) > 100000")
        .contains("DisklessMetadataLatencyHigh");
    String changed =
        render(
            Map.of(
                "prometheusRules.enabled", "true",
                "prometheusRules.consumerLag.records", "5000",
                "prometheusRules.consumerLag.groups", "payments-.*"));
    assertThat(changed)
        .contains("diskless_consumer_group_lag_records{group=~\"payments-.*\"}) > 5000");
  }

  private static Map<String, Object> only(List<Map<String, Object>> docs, String kind) {
    List<Map<String, Object>> found =
        docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
    assertThat(found).as(kind).hasSize(1);
    return found.get(0);
  }

  private static Object d(Map<String, Object> m, String key) {
    return m.get(key);
  }

  private static Map<String, Object> labels(Map<String, Object> doc) {
    Object labels = cast(doc.get("metadata")).get("labels");
    return labels == null ? Map.of() : cast(labels);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Object o) {
    return (Map<String, Object>) o;
  }
}
