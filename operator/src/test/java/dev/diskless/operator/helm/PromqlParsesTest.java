package dev.diskless.operator.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every PromQL expression the chart ships parses with Prometheus's own parser: {@code
 * helm/diskless-operator/tests/promql} (Go, github.com/prometheus/prometheus) reads the dashboards
 * and the rendered PrometheusRule, substitutes Grafana's variables, parses each expression, and
 * validates the rules as Prometheus loads a rule file. The checker is built once into {@code
 * target/promql-check} (rebuilt when its sources are newer); without Go the test is skipped.
 */
class PromqlParsesTest {

  private static final Path TOOL = ChartTest.chart().resolve("tests").resolve("promql");
  private static final Path BINARY = Path.of("target", "promql-check", "promql-check");

  @BeforeAll
  static void build() throws Exception {
    Assumptions.assumeTrue(
        goAvailable(), "go is not on the PATH: the chart's PromQL is not parsed (CI has Go)");
    if (Files.exists(BINARY) && newest(TOOL) <= Files.getLastModifiedTime(BINARY).toMillis()) {
      return;
    }
    Files.createDirectories(BINARY.getParent());
    Result r =
        run(TOOL, List.of("go", "build", "-o", BINARY.toAbsolutePath().toString(), "."), 900);
    assertThat(r.exit).as("go build of the PromQL checker:\n" + r.output).isZero();
  }

  @Test
  void everyDashboardAndRuleExpressionParses() throws Exception {
    String rendered =
        new Helm(ChartTest.chart())
            .template()
            .withName("diskless")
            .withNamespace("diskless-system")
            .set("dashboards.enabled", "true")
            .set("prometheusRules.enabled", "true")
            .call();
    Path out = Files.createDirectories(Path.of("target", "promql-check"));
    Path manifests = out.resolve("rendered.yaml");
    Files.writeString(manifests, rendered);
    List<String> args = new ArrayList<>(List.of(BINARY.toAbsolutePath().toString()));
    // The dashboards as files, and as the ConfigMaps and PrometheusRule that helm renders.
    args.addAll(dashboards().stream().map(p -> p.toAbsolutePath().toString()).toList());
    args.add(manifests.toAbsolutePath().toString());
    Result r = run(Path.of("."), args, 120);
    System.out.println(r.output);
    assertThat(r.exit).as(r.output).isZero();
    assertThat(r.output).contains("rules validated").doesNotContain("(0 rules validated)");
  }

  @Test
  void aBrokenExpressionFails() throws Exception {
    Path bad = Files.createDirectories(Path.of("target", "promql-check")).resolve("bad.json");
    Files.writeString(
        bad,
        "{\"title\": \"bad\", \"panels\": [{\"targets\": [{\"expr\":"
            + " \"sum by (pod) (rate(diskless_bytes_in_bytes_total[$__rate_interval])\"}]}]}");
    Result r = run(Path.of("."), List.of(BINARY.toAbsolutePath().toString(), bad.toString()), 120);
    assertThat(r.exit).as(r.output).isEqualTo(1);
    assertThat(r.output).contains("FAIL").contains("diskless_bytes_in_bytes_total");
  }

  static List<Path> dashboards() throws IOException {
    try (Stream<Path> files = Files.list(ChartTest.chart().resolve("dashboards"))) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  private static long newest(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(p -> p.toFile().lastModified())
          .max()
          .orElse(Long.MAX_VALUE);
    }
  }

  private static boolean goAvailable() {
    try {
      return run(Path.of("."), List.of("go", "version"), 60).exit == 0;
    } catch (Exception e) {
      return false;
    }
  }

  private record Result(int exit, String output) {}

  private static Result run(Path dir, List<String> command, long timeoutSeconds)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] output = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " timed out");
    }
    return new Result(p.exitValue(), new String(output, StandardCharsets.UTF_8));
  }
}
