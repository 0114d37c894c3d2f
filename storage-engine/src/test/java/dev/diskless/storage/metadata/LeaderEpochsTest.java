package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LeaderEpochsTest {

  /** Epoch 1 from 0, epoch 2 (no data) and 3 from 100, epoch 5 (current) from 150; HW 180. */
  private final TreeMap<Integer, Long> epochs =
      new TreeMap<>(Map.of(1, 0L, 2, 100L, 3, 100L, 5, 150L));

  @Test
  void theCurrentEpochEndsAtTheEndOffset() {
    assertThat(LeaderEpochs.endOffsetFor(epochs, 5, 5, 180)).isEqualTo(Map.entry(5, 180L));
  }

  @Test
  void anOlderEpochEndsWhereTheNextKnownOneStarts() {
    assertThat(LeaderEpochs.endOffsetFor(epochs, 1, 5, 180)).isEqualTo(Map.entry(1, 100L));
    assertThat(LeaderEpochs.endOffsetFor(epochs, 3, 5, 180)).isEqualTo(Map.entry(3, 150L));
    // Never opened: the largest epoch below it answers.
    assertThat(LeaderEpochs.endOffsetFor(epochs, 4, 5, 180)).isEqualTo(Map.entry(3, 150L));
  }

  @Test
  void unknownAndUndefinedEpochs() {
    assertThat(LeaderEpochs.endOffsetFor(epochs, -1, 5, 180)).isEqualTo(Map.entry(-1, -1L));
    assertThat(LeaderEpochs.endOffsetFor(epochs, 0, 5, 180)).isEqualTo(Map.entry(0, 0L));
    assertThat(LeaderEpochs.endOffsetFor(epochs, 9, 5, 180)).isEqualTo(Map.entry(-1, -1L));
  }
}
