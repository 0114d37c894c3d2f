package dev.diskless.storage.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import java.nio.ByteBuffer;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Re-filing cached chunks under their place in object storage. */
class TailCacheTest {

  private final TopicPartitionId tp = new TopicPartitionId(UUID.randomUUID(), 0);

  private static IndexEntry entry(long base, long last, String key, long position, int size) {
    return new IndexEntry(base, last, last, 1, key, position, size);
  }

  private static ByteBuffer bytes(int size, int fill) {
    ByteBuffer b = ByteBuffer.allocate(size);
    for (int i = 0; i < size; i++) {
      b.put(i, (byte) fill);
    }
    return b;
  }

  @Test
  void chunksThatTileAnEntryAreFiledUnderIt() {
    TailCache cache = new TailCache(1 << 20, StorageMetrics.noExport());
    cache.put(tp, entry(0, 4, "volume:a", 0, 10), bytes(10, 1));
    cache.put(tp, entry(5, 9, "volume:a", 0, 20), bytes(20, 2));
    cache.put(tp, entry(10, 12, "volume:a", 0, 5), bytes(5, 3));
    IndexEntry uploaded = entry(0, 9, "wal/x", 100, 30);

    cache.relocate(tp, uploaded, bytes(30, 4));

    assertThat(cache.bytesOf(tp, uploaded))
        .hasValueSatisfying(b -> assertThat(b.get(0)).isEqualTo((byte) 4));
    assertThat(cache.bytes()).isEqualTo(35);
    assertThat(cache.bytesAdded()).isEqualTo(35);
    // Readers see the same offsets, now in one chunk, and the chunk after it.
    assertThat(cache.read(tp, 7, 1 << 20))
        .extracting(c -> c.entry().baseOffset())
        .containsExactly(0L, 10L);
    // Its turn in the eviction order is the oldest chunk's: it goes first.
    cache.put(tp, entry(13, 13, "volume:a", 0, (1 << 20) - 30), bytes((1 << 20) - 30, 5));
    assertThat(cache.bytesOf(tp, uploaded)).isEmpty();
    assertThat(cache.read(tp, 10, 1 << 20))
        .extracting(c -> c.entry().baseOffset())
        .containsExactly(10L, 13L);
  }

  @Test
  void anEntryNotWhollyCachedOrOfOtherBytesLeavesTheChunksAsTheyAre() {
    TailCache cache = new TailCache(1 << 20, StorageMetrics.noExport());
    cache.put(tp, entry(5, 9, "volume:a", 0, 20), bytes(20, 2));

    cache.relocate(tp, entry(0, 9, "wal/x", 0, 30), bytes(30, 4));
    cache.relocate(tp, entry(5, 12, "wal/y", 0, 20), bytes(20, 4));
    cache.relocate(tp, entry(5, 9, "wal/z", 0, 21), bytes(21, 4));

    assertThat(cache.read(tp, 5, 1 << 20))
        .singleElement()
        .satisfies(c -> assertThat(c.entry().objectKey()).isEqualTo("volume:a"));
    assertThat(cache.bytes()).isEqualTo(20);
  }
}
