package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RecommendationHistoryTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Duration KEEP = Duration.ofMinutes(10);

  @Test
  void lowestAndHighestLookOnlyInsideTheWindow() {
    RecommendationHistory h = new RecommendationHistory();
    h.add(T0, 9, KEEP);
    h.add(T0.plusSeconds(30), 4, KEEP);
    h.add(T0.plusSeconds(60), 5, KEEP);
    Instant now = T0.plusSeconds(60);
    assertThat(h.lowest(now, Duration.ofSeconds(30))).hasValue(4);
    assertThat(h.highest(now, Duration.ofSeconds(30))).hasValue(5);
    assertThat(h.highest(now, Duration.ofSeconds(60))).hasValue(9);
  }

  @Test
  void aWindowCountsOnlyOnceObservedThroughout() {
    RecommendationHistory h = new RecommendationHistory();
    assertThat(h.covers(T0, Duration.ZERO)).isFalse();
    h.add(T0, 3, KEEP);
    assertThat(h.covers(T0, Duration.ZERO)).isTrue();
    assertThat(h.covers(T0.plusSeconds(59), Duration.ofSeconds(60))).isFalse();
    assertThat(h.covers(T0.plusSeconds(60), Duration.ofSeconds(60))).isTrue();
    h.clear();
    assertThat(h.covers(T0.plusSeconds(60), Duration.ofSeconds(60))).isFalse();
  }

  @Test
  void oldRecommendationsAreForgotten() {
    RecommendationHistory h = new RecommendationHistory();
    h.add(T0, 9, KEEP);
    h.add(T0.plus(KEEP).plusSeconds(1), 3, KEEP);
    assertThat(h.highest(T0.plus(KEEP).plusSeconds(1), Duration.ofDays(1))).hasValue(3);
  }
}
