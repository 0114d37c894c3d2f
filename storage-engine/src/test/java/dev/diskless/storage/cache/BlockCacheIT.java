package dev.diskless.storage.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.S3ObjectStore;
import dev.diskless.storage.testing.ObjectStoreCalls;
import dev.diskless.storage.testing.S3ProxyFixture;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Catch-up reads of a segment object through the block cache, against S3Proxy: every entry comes
 * back byte for byte (also those that straddle two pieces), the object is read in a few block-sized
 * GETs rather than one GET per entry, a partition's run in a merged object is read without the
 * other partitions' runs around it, and runs side by side asked for at once share a GET.
 */
class BlockCacheIT {

  private static final int BLOCK = 256 << 10;

  /** The caches a test made: closed after it, which stops their gather threads. */
  private final List<BlockCache> caches = new ArrayList<>();

  @AfterEach
  void closeCaches() {
    caches.forEach(BlockCache::close);
  }

  private BlockCache cache(BlockCache cache) {
    caches.add(cache);
    return cache;
  }

  @Test
  void aSegmentIsReadInBlocksAndEveryEntryComesBackExact() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      byte[] object = stored(store, "segments/t/0/seg", (5 * BLOCK) / 2 + 1234, 7);
      // Entries of uneven sizes, as chunking at batch bounds makes them; several straddle blocks.
      List<IndexEntry> entries = new ArrayList<>();
      int position = 0;
      for (int i = 0; position < object.length; i++) {
        int size = Math.min(object.length - position, 40_000 + 7_919 * (i % 5));
        entries.add(new IndexEntry(i, i, 0, 1, "segments/t/0/seg", position, size));
        position += size;
      }
      BlockCache cache = cache(new BlockCache(store, 64L << 20, BLOCK, metrics));

      for (IndexEntry e : entries) {
        assertExact(cache.read(new LocatedEntry(e, false, object.length)).join(), object, e);
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
  void aPartitionsRunInAMergedObjectIsReadWithoutTheRunsBesideIt() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      // Three partitions' runs as a merge lays them out; the middle one spans parts of three
      // blocks of the object's grid, with the other two runs in its first and last block.
      int[] runs = {BLOCK / 3, 2 * BLOCK + BLOCK / 3, BLOCK / 2};
      String key = "segments/merged/m";
      byte[] object = stored(store, key, runs[0] + runs[1] + runs[2], 9);
      List<LocatedEntry> middle = new ArrayList<>();
      int position = runs[0];
      for (int i = 0; position < runs[0] + runs[1]; i++) {
        int size = Math.min(runs[0] + runs[1] - position, 30_000 + 6_007 * (i % 4));
        middle.add(
            new LocatedEntry(
                new IndexEntry(i, i, 0, 1, key, position, size), false, object.length));
        position += size;
      }
      BlockCache cache = cache(new BlockCache(store, 64L << 20, BLOCK, metrics));

      for (LocatedEntry e : LocatedEntry.withRuns(middle)) {
        assertExact(cache.read(e).join(), object, e.entry());
      }

      // Its own bytes only, in two GETs: a block's worth, then the rest (a third of a block is
      // not worth a GET of its own).
      assertThat(ObjectStoreCalls.getBytes(metrics)).isEqualTo(runs[1]);
      assertThat(gets(metrics)).isEqualTo(2);
    }
  }

  @Test
  void aShortRunIsReadOnTheObjectsGrid() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      String key = "segments/merged/n";
      byte[] object = stored(store, key, BLOCK + BLOCK / 2, 10);
      // A run of a tenth of a block between others: a GET of it alone would cost a request for
      // little, so the grid block that holds it (shared with the runs beside it) is read.
      int start = BLOCK / 2;
      List<LocatedEntry> run =
          LocatedEntry.withRuns(
              List.of(
                  new LocatedEntry(
                      new IndexEntry(0, 0, 0, 1, key, start, BLOCK / 20), false, object.length),
                  new LocatedEntry(
                      new IndexEntry(1, 1, 0, 1, key, start + BLOCK / 20, BLOCK / 20),
                      false,
                      object.length)));
      BlockCache cache = cache(new BlockCache(store, 64L << 20, BLOCK, metrics));

      assertExact(cache.read(run.get(0)).join(), object, run.get(0).entry());
      assertExact(cache.read(run.get(1)).join(), object, run.get(1).entry());

      // The first grid block; the block after it may be loading too.
      assertThat(ObjectStoreCalls.getBytes(metrics)).isIn((long) BLOCK, (long) object.length);
    }
  }

  @Test
  void runsSideBySideAskedForTogetherShareOneGet() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      // Four partitions' runs of a third of a block each, side by side as a merge lays them out.
      int run = BLOCK / 3;
      String key = "segments/merged/o";
      byte[] object = stored(store, key, 4 * run, 11);
      List<List<LocatedEntry>> runs = new ArrayList<>();
      for (int r = 0; r < 4; r++) {
        List<LocatedEntry> entries = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          entries.add(
              new LocatedEntry(
                  new IndexEntry(i, i, 0, 1, key, r * run + i * (run / 3), run / 3),
                  false,
                  object.length));
        }
        runs.add(LocatedEntry.withRuns(entries));
      }
      // A long gather so that the test does not depend on how fast this thread asks.
      BlockCache cache =
          cache(new BlockCache(store, 64L << 20, BLOCK, Duration.ofMillis(200), metrics));

      // A fetch asks for every partition before any answer comes back.
      List<CompletableFuture<ByteBuffer>> first =
          runs.stream().map(r -> cache.read(r.getFirst())).toList();
      for (int r = 0; r < 4; r++) {
        assertExact(first.get(r).join(), object, runs.get(r).getFirst().entry());
      }

      // The first three runs make a block and share a GET; the fourth would make it larger.
      assertThat(gets(metrics)).isEqualTo(2);
      assertThat(ObjectStoreCalls.getBytes(metrics)).isEqualTo(object.length);
      // Every other entry of the runs from memory, which holds the two GETs' bytes.
      for (List<LocatedEntry> entries : runs) {
        for (LocatedEntry e : entries) {
          assertExact(cache.read(e).join(), object, e.entry());
        }
      }
      assertThat(gets(metrics)).isEqualTo(2);
      assertThat(cache.bytes()).isEqualTo(object.length);
    }
  }

  @Test
  void runsApartAreNotJoinedAndAFailedGetFailsEveryRangeInIt() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      int run = BLOCK / 4;
      String key = "segments/merged/p";
      byte[] object = stored(store, key, 3 * run, 12);
      BlockCache cache =
          cache(new BlockCache(store, 64L << 20, BLOCK, Duration.ofMillis(200), metrics));
      LocatedEntry firstRun = wholeRun(key, 0, run, object.length);
      LocatedEntry lastRun = wholeRun(key, 2 * run, run, object.length);

      var a = cache.read(firstRun);
      var b = cache.read(lastRun);
      assertExact(a.join(), object, firstRun.entry());
      assertExact(b.join(), object, lastRun.entry());

      // The run between them was not asked for: two GETs of exactly what was.
      assertThat(gets(metrics)).isEqualTo(2);
      assertThat(ObjectStoreCalls.getBytes(metrics)).isEqualTo(2L * run);

      // Two neighbouring ranges of an object that is not there: both readers see the failure, and
      // neither is left waiting on a load that will never end.
      LocatedEntry missingA = wholeRun("segments/merged/none", 0, run, 2L * run);
      LocatedEntry missingB = wholeRun("segments/merged/none", run, run, 2L * run);
      var c = cache.read(missingA);
      var d = cache.read(missingB);
      assertThat(c).failsWithin(Duration.ofSeconds(30));
      assertThat(d).failsWithin(Duration.ofSeconds(30));
      assertThat(cache.read(missingA)).failsWithin(Duration.ofSeconds(30));
      assertThat(cache.bytes()).isEqualTo(2L * run);
    }
  }

  @Test
  void closingStartsTheGatheredGetsAndLaterMissesGetAtOnce() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      int run = BLOCK / 4;
      String key = "segments/merged/q";
      byte[] object = stored(store, key, 2 * run, 13);
      // A gather far longer than the test: only closing can start the first GET in time.
      BlockCache cache =
          cache(new BlockCache(store, 64L << 20, BLOCK, Duration.ofHours(1), metrics));
      LocatedEntry first = wholeRun(key, 0, run, object.length);
      LocatedEntry second = wholeRun(key, run, run, object.length);

      CompletableFuture<ByteBuffer> waiting = cache.read(first);
      cache.close();

      assertExact(waiting.join(), object, first.entry());
      assertExact(cache.read(second).join(), object, second.entry());
      assertThat(gets(metrics)).isEqualTo(2);
    }
  }

  private static LocatedEntry wholeRun(String key, long position, int size, long objectSize) {
    return LocatedEntry.withRuns(
            List.of(
                new LocatedEntry(
                    new IndexEntry(0, 0, 0, 1, key, position, size), false, objectSize)))
        .getFirst();
  }

  /** {@code size} random bytes (from {@code seed}) stored as {@code key}. */
  private static byte[] stored(S3ObjectStore store, String key, int size, long seed) {
    byte[] object = new byte[size];
    new Random(seed).nextBytes(object);
    store.put(key, ByteBuffer.wrap(object)).join();
    return object;
  }

  private static void assertExact(ByteBuffer read, byte[] object, IndexEntry e) {
    byte[] got = new byte[read.remaining()];
    read.get(got);
    assertThat(got)
        .isEqualTo(Arrays.copyOfRange(object, (int) e.position(), (int) e.position() + e.size()));
  }

  @Test
  void withTheCacheOffAnEntryIsReadExactly() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(S3ProxyFixture.get().newBucket(), metrics)) {
      byte[] object = stored(store, "segments/t/0/seg", 3 * BLOCK, 8);
      BlockCache cache = cache(new BlockCache(store, 0, BLOCK, metrics));
      IndexEntry e = new IndexEntry(0, 0, 0, 1, "segments/t/0/seg", BLOCK - 10, 100);

      ByteBuffer read = cache.read(new LocatedEntry(e, false, object.length)).join();

      byte[] got = new byte[read.remaining()];
      read.get(got);
      assertThat(got).isEqualTo(Arrays.copyOfRange(object, BLOCK - 10, BLOCK + 90));
      assertThat(gets(metrics)).isEqualTo(1);
    }
  }

  private static long gets(StorageMetrics metrics) {
    return ObjectStoreCalls.gets(metrics);
  }
}
