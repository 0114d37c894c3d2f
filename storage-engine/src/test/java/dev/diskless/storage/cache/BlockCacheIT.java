package dev.diskless.storage.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.S3ObjectStore;
import dev.diskless.storage.testing.ObjectStoreCalls;
import dev.diskless.storage.testing.S3ProxyFixture;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Catch-up reads of a segment object through the block cache, against S3Proxy: every entry comes
 * back byte for byte (also those that straddle two blocks), and the object is read in a few
 * block-sized GETs rather than one GET per entry.
 */
class BlockCacheIT {

  private static final int BLOCK = 256 << 10;

  @Test
  void aSegmentIsReadInBlocksAndEveryEntryComesBackExact() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      byte[] object = new byte[(5 * BLOCK) / 2 + 1234];
      new Random(7).nextBytes(object);
      store.put("segments/t/0/seg", ByteBuffer.wrap(object)).join();
      // Entries of uneven sizes, as chunking at batch bounds makes them; several straddle blocks.
      List<IndexEntry> entries = new ArrayList<>();
      int position = 0;
      for (int i = 0; position < object.length; i++) {
        int size = Math.min(object.length - position, 40_000 + 7_919 * (i % 5));
        entries.add(new IndexEntry(i, i, 0, 1, "segments/t/0/seg", position, size));
        position += size;
      }
      BlockCache cache = new BlockCache(store, 64L << 20, BLOCK, metrics);

      for (IndexEntry e : entries) {
        ByteBuffer read = cache.read(new LocatedEntry(e, false, object.length)).join();
        assertThat(read.remaining()).isEqualTo(e.size());
        byte[] got = new byte[e.size()];
        read.get(got);
        assertThat(got)
            .isEqualTo(
                java.util.Arrays.copyOfRange(
                    object, (int) e.position(), (int) e.position() + e.size()));
      }

      // Three blocks, each one GET of (at most) a block, however many entries the reader asked for.
      assertThat(entries).hasSizeGreaterThan(10);
      assertThat(gets(metrics)).isEqualTo(3);
      // A second reader of the same entries is served from memory.
      cache.read(new LocatedEntry(entries.get(3), false, object.length)).join();
      assertThat(gets(metrics)).isEqualTo(3);
    }
  }

  @Test
  void withTheCacheOffAnEntryIsReadExactly() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      byte[] object = new byte[3 * BLOCK];
      new Random(8).nextBytes(object);
      store.put("segments/t/0/seg", ByteBuffer.wrap(object)).join();
      BlockCache cache = new BlockCache(store, 0, BLOCK, metrics);
      IndexEntry e = new IndexEntry(0, 0, 0, 1, "segments/t/0/seg", BLOCK - 10, 100);

      ByteBuffer read = cache.read(new LocatedEntry(e, false, object.length)).join();

      byte[] got = new byte[read.remaining()];
      read.get(got);
      assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(object, BLOCK - 10, BLOCK + 90));
      assertThat(gets(metrics)).isEqualTo(1);
    }
  }

  private static long gets(StorageMetrics metrics) {
    return ObjectStoreCalls.gets(metrics);
  }
}
