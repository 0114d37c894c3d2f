package dev.diskless.storage.testing.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.TestBatches.Read;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The checker must find each anomaly it claims to detect, or the fault tests prove nothing. */
class HistoryTest {

  private final TopicPartitionId tp = new TopicPartitionId(UUID.randomUUID(), 0);

  private static Read r(long offset, String value) {
    return new Read(offset, value, 0, 0);
  }

  @Test
  void cleanHistoryHasNoAnomalies() {
    History h = new History();
    h.ok(tp, 0, List.of("a", "b"), h.invoke());
    h.fail(tp, List.of("c"));
    h.observed(tp, 1, "b");
    h.finalRead(tp, List.of(r(0, "a"), r(1, "b")), 2);
    assertThat(h.check(true).anomalies()).isEmpty();
  }

  @Test
  void findsLostGapDuplicatePhantomAndVisibleFailure() {
    History h = new History();
    h.ok(tp, 0, List.of("a"), h.invoke());
    h.ok(tp, 1, List.of("b"), h.invoke());
    h.fail(tp, List.of("c"));
    h.finalRead(tp, List.of(r(0, "a"), r(2, "c"), r(3, "a"), r(4, "zzz")), 5);
    assertThat(String.join("\n", h.check(true).anomalies()))
        .contains("lost: b")
        .contains("gap:")
        .contains("duplicate: a")
        .contains("phantom: zzz")
        .contains("failed append visible: c");
    assertThat(h.check(false).anomalies()).noneMatch(s -> s.startsWith("failed append visible"));
  }

  @Test
  void findsInconsistentOffsetsStaleReadsAndOrderViolations() {
    History h = new History();
    h.ok(tp, 1, List.of("a"), h.invoke());
    long late = h.invoke();
    h.ok(tp, 0, List.of("b"), late);
    h.observed(tp, 0, "x");
    h.finalRead(tp, List.of(r(0, "a"), r(1, "b")), 2);
    assertThat(String.join("\n", h.check(true).anomalies()))
        .contains("inconsistent offset")
        .contains("reader saw x")
        .contains("real-time order");
  }
}
