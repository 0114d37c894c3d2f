package dev.diskless.storage.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What a cached look-up may answer: only a prefix of what the metadata store would answer for the
 * same offset and bound, recent, and enough for a read and its read-ahead.
 */
class IndexCacheTest {

  private static final TopicPartitionId TP = new TopicPartitionId(UUID.randomUUID(), 0);
  private static final int MIB = 1 << 20;

  private final AtomicLong now = new AtomicLong();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final IndexCache cache =
      new IndexCache(10_000, 1_000, now::get, new StorageMetrics(registry));

  /** Entries of 100 offsets and 1 MiB each, from offset 0. */
  private static List<LocatedEntry> entries(int count) {
    List<LocatedEntry> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(
          new LocatedEntry(
              new IndexEntry(
                  i * 100L, i * 100L + 99, 0, 4, "segment-" + (i / 4), (i % 4L) * MIB, MIB),
              false,
              4L * MIB));
    }
    return out;
  }

  private static List<Long> bases(List<LocatedEntry> entries) {
    return entries.stream().map(e -> e.entry().baseOffset()).toList();
  }

  @Test
  void aSequentialReaderIsAnsweredFromOneLookUpUntilItsEnd() {
    cache.put(TP, 0, 6_400, entries(64), 64);
    // A read of 1 MiB from offset 1050 takes the entry holding it and one more for its read-ahead.
    assertThat(cache.entries(TP, 1050, 6_400, MIB).map(IndexCacheTest::bases))
        .contains(List.of(1000L, 1100L));
    assertThat(cache.entries(TP, 6_200, 6_400, MIB).map(IndexCacheTest::bases))
        .contains(List.of(6_200L, 6_300L));
    // The look-up was cut at 64 entries: beyond its last one the store must be asked.
    assertThat(cache.entries(TP, 6_300, 9_999, MIB)).isEmpty();
    assertThat(
            registry
                .get("diskless.cache.requests")
                .tag("cache", "index")
                .tag("result", "hit")
                .counter()
                .count())
        .isEqualTo(2);
  }

  @Test
  void aLookUpThatReachedItsBoundAnswersUpToItAndNoFurther() {
    cache.put(TP, 0, 500, entries(5), 64);
    assertThat(cache.entries(TP, 450, 500, MIB).map(IndexCacheTest::bases)).contains(List.of(400L));
    // The high watermark moved on: entries written since were never looked up.
    assertThat(cache.entries(TP, 450, 800, MIB)).isEmpty();
    // A read-committed reader's lower bound ends the answer where it ends.
    assertThat(cache.entries(TP, 150, 300, 10L * MIB).map(IndexCacheTest::bases))
        .contains(List.of(100L, 200L));
  }

  @Test
  void offsetsBeforeTheLookUpOldLookUpsAndInvalidatedPartitionsGoToTheStore() {
    cache.put(TP, 1_000, 6_400, entries(64).subList(10, 64), 64);
    assertThat(cache.entries(TP, 950, 6_400, MIB)).isEmpty();
    assertThat(cache.entries(TP, 1_000, 6_400, MIB)).isPresent();
    now.addAndGet(10_001);
    assertThat(cache.entries(TP, 1_000, 6_400, MIB)).isEmpty();
    cache.put(TP, 1_000, 6_400, entries(64).subList(10, 64), 64);
    cache.invalidate(TP);
    assertThat(cache.entries(TP, 1_000, 6_400, MIB)).isEmpty();
    assertThat(cache.size()).isZero();
  }

  @Test
  void theLeastRecentlyUsedPartitionsAreDroppedBeyondTheEntryBound() {
    List<TopicPartitionId> partitions = new ArrayList<>();
    for (int p = 0; p < 20; p++) {
      TopicPartitionId tp = new TopicPartitionId(TP.topicId(), p);
      partitions.add(tp);
      cache.put(tp, 0, 6_400, entries(64), 64);
    }
    assertThat(cache.size()).isLessThanOrEqualTo(1_000);
    assertThat(cache.entries(partitions.get(0), 0, 6_400, MIB)).isEmpty();
    assertThat(cache.entries(partitions.get(19), 0, 6_400, MIB)).isPresent();
    assertThat(registry.get("diskless.cache.index.entries").gauge().value())
        .isEqualTo(cache.size());
  }
}
