package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which figure counts for each broker: its /metrics counter, else metrics.k8s.io. */
class CpuSampleTest {

  @Test
  void withoutPodMetricsTheCounterRatesAreTheLoad() {
    CpuSample s = CpuSample.choose(Map.of("a", 1.0, "b", 0.5), Set.of("a", "b"), Map.of(), 1.0);
    assertThat(s.load()).contains(new CpuLoad(2, 75));
    assertThat(s.source()).contains(CpuSource.BROKER);
    assertThat(s.fromPodMetrics()).isEmpty();
    assertThat(s.fromBrokers()).contains(new CpuLoad(2, 75));
  }

  @Test
  void aBrokerWhoseMetricsFailedThisRoundCountsWithItsPodMetrics() {
    // b's /metrics did not answer: its stale counter rate (0.5) gives way to PodMetrics (1.5).
    CpuSample s =
        CpuSample.choose(Map.of("a", 1.0, "b", 0.5), Set.of("a"), Map.of("a", 0.9, "b", 1.5), 2.0);
    assertThat(s.load()).contains(new CpuLoad(2, 62.5));
    assertThat(s.source()).contains(CpuSource.BOTH);
    // Each source alone, for comparison.
    assertThat(s.fromBrokers()).contains(new CpuLoad(2, 37.5));
    assertThat(s.fromPodMetrics()).contains(new CpuLoad(2, 60));
  }

  @Test
  void aBrokerReadThisRoundWithoutARateYetDoesNotCountAsIdle() {
    // c has just started: one reading, no rate; its PodMetrics is not used in its place.
    CpuSample s =
        CpuSample.choose(Map.of("a", 1.0), Set.of("a", "c"), Map.of("a", 1.0, "c", 0.0), 1.0);
    assertThat(s.load()).contains(new CpuLoad(1, 100));
    assertThat(s.source()).contains(CpuSource.BROKER);
  }

  @Test
  void onlyPodMetricsWhenNoBrokerAnswers() {
    CpuSample s = CpuSample.choose(Map.of(), Set.of(), Map.of("a", 0.25, "b", 0.75), 1.0);
    assertThat(s.load()).contains(new CpuLoad(2, 50));
    assertThat(s.source()).contains(CpuSource.POD_METRICS);
    // Nothing unreadable and no PodMetrics: a stale counter rate still counts, as before.
    s = CpuSample.choose(Map.of("a", 0.5), Set.of(), Map.of(), 1.0);
    assertThat(s.load()).contains(new CpuLoad(1, 50));
  }

  @Test
  void nothingMeasuredIsNoLoad() {
    assertThat(CpuSample.choose(Map.of(), Set.of("a"), Map.of(), 1.0)).isEqualTo(CpuSample.NONE);
    assertThat(CpuSample.choose(Map.of("a", 1.0), Set.of("a"), Map.of(), 0).load()).isEmpty();
  }
}
