package dev.diskless.storage.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.metadata.IndexEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CleanableRangeTest {

  private static final long NOW = 1_000_000_000L;

  /** Ten entries of 100 bytes, offsets 10i..10i+9, the i-th written {@code 10 - i} minutes ago. */
  private static List<IndexEntry> log() {
    List<IndexEntry> out = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      out.add(new IndexEntry(10L * i, 10L * i + 9, NOW - (10 - i) * 60_000L, 1, "o", 0, 100));
    }
    return out;
  }

  private static KeyCompactionPolicy policy(Map<String, String> configs) {
    Map<String, String> all = new java.util.HashMap<>(configs);
    all.put("cleanup.policy", "compact");
    return KeyCompactionPolicy.of(all);
  }

  @Test
  void theActivePartIsTheNewestSegmentBytesAndIsNeverCleaned() {
    CleanableRange r =
        CleanableRange.of(log(), 0, Long.MAX_VALUE, policy(Map.of("segment.bytes", "300")), NOW)
            .orElseThrow();
    assertThat(r.endIndex()).isEqualTo(7);
    assertThat(r.endOffset()).isEqualTo(70);
    assertThat(r.dirtyBytes()).isEqualTo(700);
    assertThat(r.cleanBytes()).isZero();
    // With Kafka's defaults (1 GiB, 7 days) the whole of this small log is the active part.
    assertThat(CleanableRange.of(log(), 0, Long.MAX_VALUE, policy(Map.of()), NOW)).isEmpty();
    // Entries older than segment.ms end the active part whatever their size.
    assertThat(
            CleanableRange.of(log(), 0, Long.MAX_VALUE, policy(Map.of("segment.ms", "150000")), NOW)
                .orElseThrow()
                .endIndex())
        .isEqualTo(8);
    // The newest entry is never cleaned, even when it alone exceeds segment.bytes.
    assertThat(
            CleanableRange.of(log(), 0, Long.MAX_VALUE, policy(Map.of("segment.bytes", "1")), NOW)
                .orElseThrow()
                .endIndex())
        .isEqualTo(9);
  }

  @Test
  void anOpenTransactionEndsTheCleanableRangeAtTheEntryHoldingTheLastStableOffset() {
    KeyCompactionPolicy small = policy(Map.of("segment.bytes", "1"));
    // Entry 4 holds offsets 40..49; a transaction open from 45 may still abort what follows it.
    CleanableRange r = CleanableRange.of(log(), 0, 45, small, NOW).orElseThrow();
    assertThat(r.endIndex()).isEqualTo(4);
    assertThat(r.endOffset()).isEqualTo(40);
    assertThat(CleanableRange.of(log(), 0, 5, small, NOW)).isEmpty();
  }

  @Test
  void minCompactionLagHoldsBackRecentEntriesAndTheRatioDecidesWhetherToRun() {
    KeyCompactionPolicy lagged =
        policy(Map.of("segment.bytes", "100", "min.compaction.lag.ms", "300000"));
    // Entries 6.. are younger than five minutes.
    assertThat(CleanableRange.of(log(), 0, Long.MAX_VALUE, lagged, NOW).orElseThrow().endIndex())
        .isEqualTo(6);

    KeyCompactionPolicy half = policy(Map.of("segment.bytes", "100"));
    // Clean up to 40, dirty 40..89: 500 of 900 bytes dirty, over the default 0.5.
    CleanableRange r = CleanableRange.of(log(), 40, Long.MAX_VALUE, half, NOW).orElseThrow();
    assertThat(r.firstDirtyIndex()).isEqualTo(4);
    assertThat(r.dirtyRatio()).isEqualTo(500.0 / 900);
    assertThat(r.due()).isTrue();
    // Clean up to 50: 400 of 900, not due.
    assertThat(CleanableRange.of(log(), 50, Long.MAX_VALUE, half, NOW).orElseThrow().due())
        .isFalse();
    // Unless the oldest dirty entry is older than max.compaction.lag.ms.
    KeyCompactionPolicy maxLag =
        policy(Map.of("segment.bytes", "100", "max.compaction.lag.ms", "240000"));
    CleanableRange forced = CleanableRange.of(log(), 50, Long.MAX_VALUE, maxLag, NOW).orElseThrow();
    assertThat(forced.forced()).isTrue();
    assertThat(forced.due()).isTrue();
    assertThat(forced.oldestDirtyTimestamp()).isEqualTo(NOW - 5 * 60_000L);
    // Nothing dirty: nothing to do.
    assertThat(CleanableRange.of(log(), 90, Long.MAX_VALUE, maxLag, NOW)).isEmpty();
    // A topic that does not compact is never cleaned by this path.
    assertThat(KeyCompactionPolicy.of(Map.of("cleanup.policy", "delete")).compact()).isFalse();
    assertThat(KeyCompactionPolicy.of(Map.of("cleanup.policy", "compact,delete")).compact())
        .isTrue();
  }
}
