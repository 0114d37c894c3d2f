package dev.diskless.storage.compaction;

import static dev.diskless.storage.testing.StorageHarness.tp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.log.ReadResult;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import dev.diskless.storage.testing.ForwardingObjectStore;
import dev.diskless.storage.testing.Logs;
import dev.diskless.storage.testing.ObjectStoreCalls;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.StorageHarness;
import dev.diskless.storage.testing.TestBatches;
import dev.diskless.storage.testing.TestBatches.Read;
import dev.diskless.storage.wal.WalConfig;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

class MaintenanceIT {

  private StorageHarness h;

  @BeforeEach
  void start() {
    h =
        StorageHarness.start()
            .withWal(
                new WalConfig(1 << 20, Duration.ofMillis(2), 1, 64L << 20, Duration.ofSeconds(1)))
            .withCompaction(
                new CompactionConfig(
                    Duration.ofHours(1), 16 << 10, 1 << 20, 16 << 10, Duration.ofSeconds(2)));
  }

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void compactionMergesWalEntriesIntoSegmentsAndReadsStayExact() {
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine engine = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic("compact", 2);
    h.own(engine, topic);
    List<List<String>> sent = List.of(new ArrayList<>(), new ArrayList<>());
    for (int i = 0; i < 60; i++) {
      for (int p = 0; p < 2; p++) {
        String v = "p" + p + "-" + i;
        engine
            .logs()
            .append(
                tp(topic, p),
                h.epoch(tp(topic, p)),
                TestBatches.sized(2, 1000, v),
                AppendOptions.defaults())
            .join();
        sent.get(p).addAll(List.of(v + "-0", v + "-1"));
      }
    }
    assertThat(kindCount("WAL")).isGreaterThan(30);

    long walBytes =
        h.queryLong(
            "SELECT SUM(bi.byte_size) FROM batch_index bi JOIN objects o USING (object_key) WHERE o.kind = 'WAL'");
    engine.maintenance().runOnce().join();

    assertThat(kindCount("SEGMENT")).isEqualTo(2);
    // The owner still holds every entry in its tail cache: the merge reads nothing back.
    assertThat(ObjectStoreCalls.compactionReadBytes(metrics, "cache")).isEqualTo(walBytes);
    assertThat(ObjectStoreCalls.compactionReadBytes(metrics, "object-store")).isZero();
    assertThat(
            h.queryLong(
                "SELECT COUNT(*) FROM batch_index bi JOIN objects o USING (object_key) WHERE o.kind = 'WAL'"))
        .isZero();
    // 60 batches of ~2 KB per partition in 16 KiB chunks: several index rows per segment, each at
    // batch bounds.
    assertThat(h.queryLong("SELECT COUNT(*) FROM batch_index")).isBetween(10L, 30L);
    StorageEngine cold = h.engine(500);
    for (int p = 0; p < 2; p++) {
      assertThat(Logs.readAll(cold, tp(topic, p)))
          .extracting(Read::value)
          .containsExactlyElementsOf(sent.get(p));
    }
    // WAL objects are unreferenced now; after their grace period the cleaner removes them from the
    // bucket.
    assertThat(h.queryLong("SELECT COUNT(*) FROM objects WHERE kind = 'WAL' AND state = 'LIVE'"))
        .isZero();
    expireGracePeriods();
    engine.maintenance().runOnce().join();
    assertThat(bucketKeys()).allMatch(k -> k.startsWith("segments/")).hasSize(2);
    for (int p = 0; p < 2; p++) {
      assertThat(Logs.readAll(h.engine(600 + p), tp(topic, p)))
          .extracting(Read::value)
          .containsExactlyElementsOf(sent.get(p));
    }
    // Appends continue after compaction, and a second run compacts the new WAL entries into a
    // second segment.
    for (int i = 0; i < 20; i++) {
      engine
          .logs()
          .append(
              tp(topic, 0),
              h.epoch(tp(topic, 0)),
              TestBatches.sized(2, 1000, "late" + i),
              AppendOptions.defaults())
          .join();
    }
    engine.maintenance().runOnce().join();
    assertThat(kindCount("SEGMENT")).isEqualTo(3);
    assertThat(Logs.readAll(h.engine(700), tp(topic, 0))).hasSize(160);
  }

  @Test
  void aNewOwnerWithAnEmptyCacheCompactsFromTheObjectStore() {
    StorageEngine first = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topic("moved", 1);
    h.own(first, topic);
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String v = "m" + i;
      first
          .logs()
          .append(
              tp(topic, 0),
              h.epoch(tp(topic, 0)),
              TestBatches.sized(2, 1000, v),
              AppendOptions.defaults())
          .join();
      sent.addAll(List.of(v + "-0", v + "-1"));
    }
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine second = h.engine(h.register("b").nodeId(), metrics);
    first.logs().handOver(tp(topic, 0), second.nodeId()).join();
    second.logs().open(tp(topic, 0)).join();

    second.maintenance().runOnce().join();

    assertThat(kindCount("SEGMENT")).isEqualTo(1);
    assertThat(ObjectStoreCalls.compactionReadBytes(metrics, "cache")).isZero();
    assertThat(ObjectStoreCalls.compactionReadBytes(metrics, "object-store"))
        .isGreaterThan(30 * 2000L);
    assertThat(Logs.readAll(h.engine(800), tp(topic, 0)))
        .extracting(Read::value)
        .containsExactlyElementsOf(sent);
  }

  @Test
  void walObjectsThatLeftTheCacheAreReadOnceForAllTheirPartitions() {
    h.withTailCache(1024);
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine a = h.engine(h.register("a").nodeId(), metrics);
    StorageEngine b = h.engine(h.register("b").nodeId());
    TopicInfo topic = h.topic("evicted", 4);
    h.own(a, topic);
    List<List<String>> sent = h.appendRounds(a, topic, 25, "e");
    // Partition 3 moves to b: its entries in a's WAL objects are b's to merge.
    a.logs().handOver(tp(topic, 3), b.nodeId()).join();
    b.logs().open(tp(topic, 3)).join();
    String notP3 = "NOT (bi.topic_id = '" + topic.topicId() + "' AND bi.partition = 3)";
    long objectsOfA = walQuery("COUNT(DISTINCT bi.object_key)", notP3);
    long bytesOfA = walQuery("SUM(bi.byte_size)", notP3);
    long entriesOfB = walQuery("COUNT(*)", "NOT " + notP3);
    assertThat(objectsOfA).isGreaterThan(10);

    long getsBefore = ObjectStoreCalls.gets(metrics);
    a.maintenance().runOnce().join();

    // One GET per WAL object, none per partition; one merged object.
    assertThat(ObjectStoreCalls.gets(metrics) - getsBefore).isEqualTo(objectsOfA);
    assertThat(ObjectStoreCalls.compactionReadBytes(metrics, "object-store")).isEqualTo(bytesOfA);
    assertThat(kindCount("SEGMENT")).isEqualTo(1);
    assertThat(walQuery("COUNT(*)", notP3)).isZero();
    assertThat(walQuery("COUNT(*)", "NOT " + notP3)).isEqualTo(entriesOfB);
    // Each partition's share is one contiguous range of the merged object.
    for (int p = 0; p < 3; p++) {
      assertThat(
              h.queryLong(
                  "SELECT MAX(byte_position + byte_size) - MIN(byte_position) - SUM(byte_size) "
                      + "FROM batch_index WHERE topic_id = '"
                      + topic.topicId()
                      + "' AND partition = "
                      + p))
          .isZero();
    }
    assertReadsExactly(h.engine(900), topic, sent);

    b.maintenance().runOnce().join();
    assertThat(kindCount("SEGMENT")).isEqualTo(2);
    assertThat(kindCount("WAL")).isZero();
    expireGracePeriods();
    a.maintenance().runOnce().join();
    assertThat(bucketKeys()).allMatch(k -> k.startsWith("segments/")).hasSize(2);
    assertReadsExactly(h.engine(901), topic, sent);
  }

  /**
   * A catch-up reader asks the index once per many entries, not once per read; when the objects its
   * remembered entries name were merged away and deleted meanwhile, the read asks the index again
   * and stays exact.
   */
  @Test
  void aCatchUpReaderLooksUpTheIndexOncePerManyEntriesAndSurvivesTheirObjectsGoing() {
    h.withTailCache(1024);
    StorageEngine owner = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topic("catch-up", 1);
    h.own(owner, topic);
    List<String> sent = h.appendRounds(owner, topic, 200, "c").get(0);
    // No block cache: every read is a GET of exactly the entry, so a deleted object shows.
    h.withBlockCache(0);
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine reader = h.engine(900, metrics);
    TopicPartitionId tp = tp(topic, 0);

    List<String> read = new ArrayList<>();
    long offset = 0;
    while (offset < 200) {
      offset = readInto(reader, tp, offset, read);
    }
    // 100 entries of one batch each, read one at a time: a look-up per 64 entries, not per read.
    assertThat(indexLookups(metrics, "miss")).isBetween(1.0, 3.0);
    assertThat(indexLookups(metrics, "hit")).isGreaterThanOrEqualTo(97.0);

    owner.maintenance().runOnce().join();
    assertThat(kindCount("WAL")).isZero();
    expireGracePeriods();
    owner.maintenance().runOnce().join();
    assertThat(bucketKeys()).allMatch(k -> k.startsWith("segments/"));
    // The reader's last look-up names WAL objects that are gone now.
    while (offset < 400) {
      offset = readInto(reader, tp, offset, read);
    }
    assertThat(read).containsExactlyElementsOf(sent);
    // A read within one index entry is a view of the bytes read; one spanning entries is joined.
    assertThat(reader.reader().read(tp, 0, 1024).join().records().isReadOnly()).isTrue();
    ReadResult spanning = reader.reader().read(tp, 0, 64 << 10).join();
    assertThat(spanning.records().isReadOnly()).isFalse();
    assertThat(TestBatches.read(spanning.records()))
        .extracting(Read::value)
        .hasSizeGreaterThan(40)
        .containsExactlyElementsOf(sent.subList(0, TestBatches.read(spanning.records()).size()));
  }

  /** Reads about one entry from {@code offset} into {@code into}; the offset after what it read. */
  private static long readInto(
      StorageEngine engine, TopicPartitionId tp, long offset, List<String> into) {
    ReadResult r = engine.reader().read(tp, offset, 1024).join();
    List<Read> records = TestBatches.read(r.records());
    records.stream().filter(x -> x.offset() >= offset).forEach(x -> into.add(x.value()));
    return records.get(records.size() - 1).offset() + 1;
  }

  private static double indexLookups(StorageMetrics metrics, String result) {
    var counter =
        metrics
            .registry()
            .find("diskless.cache.requests")
            .tag("cache", "index")
            .tag("result", result)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  /**
   * Under heavy input the tail cache holds a few seconds of data: once a segment's bytes were
   * written, the oldest WAL objects are merged in full groups from memory, with no GET; the newest
   * objects wait until they make a full group.
   */
  @Test
  void walObjectsAreMergedFromTheTailCacheInFullGroupsOnceASegmentWasWritten() {
    h.withCompaction(
        new CompactionConfig(
            Duration.ofHours(1), 16 << 10, 64 << 10, 16 << 10, Duration.ofMinutes(5)));
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine a = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic("cached", 3);
    h.own(a, topic);
    List<List<String>> sent = h.appendRounds(a, topic, 4, "c");
    assertThat(a.maintenance().mergeWhileCached().join())
        .as("less than a segment written: nothing yet")
        .isZero();

    sent = h.appendRounds(a, topic, 21, "d", sent);
    long walObjects = h.queryLong("SELECT COUNT(*) FROM objects WHERE kind = 'WAL'");
    long getsBefore = ObjectStoreCalls.gets(metrics);
    assertThat(a.maintenance().mergeWhileCached().join()).isEqualTo(2);

    assertThat(ObjectStoreCalls.gets(metrics) - getsBefore).as("GETs").isZero();
    assertThat(ObjectStoreCalls.compactionReadBytes(metrics, "object-store")).isZero();
    assertThat(ObjectStoreCalls.compactionReadBytes(metrics, "cache")).isPositive();
    assertThat(kindCount("SEGMENT")).isEqualTo(2);
    long left = walQuery("COUNT(DISTINCT bi.object_key)", "TRUE");
    assertThat(left).as("the newest objects, less than a full group").isPositive();
    assertThat(left).isLessThan(walObjects / 3);
    assertThat(a.maintenance().mergeWhileCached().join())
        .as("nothing written since: nothing to do")
        .isZero();
    assertReadsExactly(h.engine(900), topic, sent);
  }

  @Test
  void aMergeRacingAppendsDeleteRecordsAndAHandOverLosesNothing() throws Exception {
    h.withTailCache(1024)
        .withCompaction(
            new CompactionConfig(
                Duration.ofHours(1), 16 << 10, 1 << 20, 16 << 10, Duration.ofMinutes(5)));
    GatedMergedPuts store = new GatedMergedPuts(h.objectStore(StorageMetrics.noExport()));
    try (StorageEngine a = cleanerLeaderOn(store, "a")) {
      StorageEngine b = h.engine(h.register("b").nodeId());
      TopicInfo topic = h.topic("race", 3);
      h.own(a, topic);
      List<List<String>> sent = h.appendRounds(a, topic, 20, "r");
      CompletableFuture<Void> pass = a.maintenance().runOnce();
      assertThat(store.putReached.await(30, TimeUnit.SECONDS)).isTrue();

      // While the merged object uploads: partition 0 loses its first records, partition 1 moves
      // to b and takes more appends there, partition 2 takes more appends here.
      a.logs().deleteRecordsBefore(tp(topic, 0), h.epoch(tp(topic, 0)), 10, a.logBounds()).join();
      a.logs().handOver(tp(topic, 1), b.nodeId()).join();
      b.logs().open(tp(topic, 1)).join();
      // Ten each: over the 16 KiB a partition's evicted entries need before they are merged.
      for (int i = 0; i < 10; i++) {
        sent.get(1).addAll(h.appendTwo(b, tp(topic, 1), "late-b" + i).join());
        sent.get(2).addAll(h.appendTwo(a, tp(topic, 2), "late-a" + i).join());
      }
      store.release.countDown();
      pass.get(60, TimeUnit.SECONDS);

      // Partition 0 changed under the merge and was left out of that object (the same pass went
      // on to merge it, with the late appends, into the next one); 1 and 2 were swapped in.
      assertThat(entriesIn(store.gatedKey, topic, 0)).isZero();
      assertThat(entriesIn(store.gatedKey, topic, 1)).isPositive();
      assertThat(entriesIn(store.gatedKey, topic, 2)).isPositive();
      assertThat(segmentsMiscountingLiveBytes()).isZero();
      sent.set(0, sent.get(0).subList(10, sent.get(0).size()));
      assertReadsExactly(h.engine(902), topic, sent);

      // The next passes merge what is left; once the cleaner has deleted every superseded
      // object, every acknowledged record is still there (D1) at its offset (D2).
      a.maintenance().runOnce().join();
      b.maintenance().runOnce().join();
      assertThat(kindCount("WAL")).isZero();
      expireGracePeriods();
      a.maintenance().runOnce().join();
      assertThat(bucketKeys()).allMatch(k -> k.startsWith("segments/"));
      assertReadsExactly(h.engine(903), topic, sent);
    }
  }

  /**
   * A pass's merge of a partition's cached run waits for the group merge holding the same entries:
   * run at once, the partition was left out of the group and its bytes there stayed dead.
   */
  @Test
  void aPartitionsMergeWaitsForTheGroupMergeHoldingItsEntries() throws Exception {
    h.withCompaction(
        new CompactionConfig(
            Duration.ofHours(1), 16 << 10, 64 << 10, 16 << 10, Duration.ofMinutes(5)));
    GatedMergedPuts store = new GatedMergedPuts(h.objectStore(StorageMetrics.noExport()));
    try (StorageEngine a = cleanerLeaderOn(store, "a")) {
      TopicInfo topic = h.topic("between", 3);
      h.own(a, topic);
      List<List<String>> sent = h.appendRounds(a, topic, 25, "g");
      CompletableFuture<Integer> groups = a.maintenance().mergeWhileCached();
      assertThat(store.putReached.await(30, TimeUnit.SECONDS)).isTrue();

      CompletableFuture<Void> pass = a.maintenance().runOnce();
      assertThatThrownBy(() -> pass.get(2, TimeUnit.SECONDS))
          .as("the pass's merges wait while the group uploads")
          .isInstanceOf(TimeoutException.class);
      store.release.countDown();
      assertThat(groups.get(60, TimeUnit.SECONDS)).isPositive();
      pass.get(60, TimeUnit.SECONDS);

      for (int p = 0; p < 3; p++) {
        assertThat(entriesIn(store.gatedKey, topic, p))
            .as("partition %d in the group", p)
            .isPositive();
      }
      assertThat(segmentsMiscountingLiveBytes()).isZero();
      assertReadsExactly(h.engine(904), topic, sent);
    }
  }

  /**
   * A quiet partition written a small record at a time fills more of the oldest WAL objects than
   * one look at them reads, with entries too few to merge; the busy partitions' objects behind them
   * are merged all the same (evicted here), and the quiet entries stay where they are.
   */
  @Test
  void aQuietPartitionsLeftoversDoNotHoldUpMergingEvictedObjectsBehindThem() {
    h.withTailCache(1024).withCompaction(quietAndBusy());
    StorageEngine a = h.engine(h.register("a").nodeId());
    TopicInfo quiet = h.topic("quiet", 1);
    TopicInfo busy = h.topic("busy", 2);
    h.own(a, quiet);
    h.own(a, busy);
    List<List<String>> quietSent = appendQuietly(a, quiet);
    List<List<String>> busySent = appendBusily(a, busy);
    long busyEntries = walQuery("COUNT(*)", "bi.topic_id = '" + busy.topicId() + "'");

    a.maintenance().runOnce().join();

    assertThat(walQuery("COUNT(*)", "bi.topic_id = '" + busy.topicId() + "'"))
        .as("the busy partitions' entries, merged but for a last few too few to merge")
        .isLessThan(busyEntries / 2);
    assertThat(walQuery("COUNT(*)", "bi.topic_id = '" + quiet.topicId() + "'"))
        .as("the quiet partition's entries, too few to merge, left in their WAL objects")
        .isEqualTo(QUIET_OBJECTS);
    assertReadsExactly(h.engine(905), quiet, quietSent);
    assertReadsExactly(h.engine(906), busy, busySent);
  }

  /** The same while cached: merging from the tail cache is not held up either. */
  @Test
  void aQuietPartitionsLeftoversDoNotHoldUpMergingCachedObjectsBehindThem() {
    h.withCompaction(quietAndBusy());
    StorageEngine a = h.engine(h.register("a").nodeId());
    TopicInfo quiet = h.topic("quiet", 1);
    TopicInfo busy = h.topic("busy", 2);
    h.own(a, quiet);
    h.own(a, busy);
    List<List<String>> quietSent = appendQuietly(a, quiet);
    List<List<String>> busySent = appendBusily(a, busy);
    long busyEntries = walQuery("COUNT(*)", "bi.topic_id = '" + busy.topicId() + "'");

    assertThat(a.maintenance().mergeWhileCached().join()).isEqualTo(1);

    assertThat(walQuery("COUNT(*)", "bi.topic_id = '" + busy.topicId() + "'"))
        .as("a full group of the busy partitions' entries, merged")
        .isLessThan(busyEntries / 2);
    assertReadsExactly(h.engine(907), quiet, quietSent);
    assertReadsExactly(h.engine(908), busy, busySent);
  }

  /** More WAL objects than one look at the oldest reads, each of one small quiet entry. */
  private static final int QUIET_OBJECTS = WalGroupCompactor.OBJECTS_PER_LOOK + 20;

  /** Partitions merge from 256 KiB in a look, in 1 MiB segments. */
  private static CompactionConfig quietAndBusy() {
    return new CompactionConfig(
        Duration.ofHours(1), 256 << 10, 1 << 20, 16 << 10, Duration.ofMinutes(5));
  }

  /** One ~100-byte record per WAL object, {@link #QUIET_OBJECTS} times: under 256 KiB in all. */
  private List<List<String>> appendQuietly(StorageEngine engine, TopicInfo topic) {
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < QUIET_OBJECTS; i++) {
      sent.add(append(engine, tp(topic, 0), 1, 100, "q" + i).get(0));
    }
    return List.of(sent);
  }

  /** 15 rounds of 50 ~1 KB records to each partition: ~1.5 MB, more than a segment. */
  private List<List<String>> appendBusily(StorageEngine engine, TopicInfo topic) {
    List<List<String>> sent = new ArrayList<>();
    for (int p = 0; p < topic.partitionCount(); p++) {
      sent.add(new ArrayList<>());
    }
    for (int round = 0; round < 15; round++) {
      for (int p = 0; p < topic.partitionCount(); p++) {
        sent.get(p).addAll(append(engine, tp(topic, p), 50, 1000, "b" + p + "-" + round));
      }
    }
    return sent;
  }

  /**
   * Appends {@code count} records of {@code size} bytes; returns their values once acknowledged.
   */
  private List<String> append(
      StorageEngine engine, TopicPartitionId tp, int count, int size, String tag) {
    engine
        .logs()
        .append(tp, h.epoch(tp), TestBatches.sized(count, size, tag), AppendOptions.defaults())
        .join();
    List<String> values = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      values.add(tag + "-" + i);
    }
    return values;
  }

  /** Segments whose live bytes differ from the bytes their index entries refer to. */
  private long segmentsMiscountingLiveBytes() {
    return h.queryLong(
        "SELECT COUNT(*) FROM objects o WHERE kind = 'SEGMENT' AND live_bytes <> "
            + "(SELECT SUM(byte_size) FROM batch_index bi WHERE bi.object_key = o.object_key)");
  }

  /** An engine, leading the cleaner, that writes through {@code store}. */
  private StorageEngine cleanerLeaderOn(ObjectStore store, String name) {
    return new StorageEngine(
        h.config(),
        h.register(name).nodeId(),
        h.metadata,
        store,
        StorageMetrics.noExport(),
        () -> true);
  }

  /** Every partition reads back exactly what was sent, at dense offsets from its log start. */
  private static void assertReadsExactly(
      StorageEngine engine, TopicInfo topic, List<List<String>> sent) {
    for (int p = 0; p < sent.size(); p++) {
      List<Read> read = Logs.readAll(engine, tp(topic, p));
      assertThat(read).extracting(Read::value).containsExactlyElementsOf(sent.get(p));
      for (int i = 1; i < read.size(); i++) {
        assertThat(read.get(i).offset()).isEqualTo(read.get(i - 1).offset() + 1);
      }
    }
  }

  private long walQuery(String aggregate, String where) {
    return h.queryLong(
        "SELECT COALESCE("
            + aggregate
            + ", 0) FROM batch_index bi JOIN objects o USING (object_key) WHERE o.kind = 'WAL' AND "
            + where);
  }

  private long entriesIn(String objectKey, TopicInfo topic, int partition) {
    return h.queryLong(
        "SELECT COUNT(*) FROM batch_index WHERE object_key = '"
            + objectKey
            + "' AND topic_id = '"
            + topic.topicId()
            + "' AND partition = "
            + partition);
  }

  /** Holds the upload of the first merged object until released, so a test can race it. */
  private static final class GatedMergedPuts extends ForwardingObjectStore {
    final CountDownLatch putReached = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile String gatedKey;

    GatedMergedPuts(ObjectStore delegate) {
      super(delegate);
    }

    @Override
    public CompletableFuture<Void> put(String key, ByteBuffer data) {
      if (!key.contains("/merged/") || putReached.getCount() == 0) {
        return delegate.put(key, data);
      }
      gatedKey = key;
      putReached.countDown();
      return CompletableFuture.runAsync(
              () -> {
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              })
          .thenCompose(v -> delegate.put(key, data));
    }
  }

  @Test
  void retentionBySizeAndTimeMovesTheLogStartAndFreesObjects() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo bySize = h.topics.create("by-size", 1, Map.of("retention.bytes", "20000")).join();
    TopicInfo byTime = h.topics.create("by-time", 1, Map.of("retention.ms", "60000")).join();
    h.own(engine, bySize);
    h.own(engine, byTime);
    long now = System.currentTimeMillis();
    for (int i = 0; i < 20; i++) {
      engine
          .logs()
          .append(
              tp(bySize, 0),
              h.epoch(tp(bySize, 0)),
              TestBatches.sized(2, 1000, "s" + i),
              AppendOptions.defaults())
          .join();
      long ts = i < 12 ? now - 3_600_000 : now;
      engine
          .logs()
          .append(
              tp(byTime, 0),
              h.epoch(tp(byTime, 0)),
              TestBatches.values(ts, "t" + i),
              AppendOptions.defaults())
          .join();
    }
    engine.maintenance().runOnce().join();

    long sizeStart = engine.reader().bounds(tp(bySize, 0)).join().logStartOffset();
    // Each batch is about 2 KB: the newest ~10 batches (20 records) stay, a batch more at most.
    assertThat(sizeStart).isBetween(16L, 22L);
    assertThat(
            h.queryLong(
                "SELECT COALESCE(SUM(byte_size), 0) FROM batch_index WHERE topic_id = '"
                    + bySize.topicId()
                    + "'"))
        .isBetween(18000L, 24000L);
    assertThat(engine.reader().bounds(tp(byTime, 0)).join().logStartOffset()).isEqualTo(12);
    assertThat(
            TestBatches.read(h.engine(9).reader().read(tp(byTime, 0), 12, 100).join().records())
                .get(0)
                .value())
        .isEqualTo("t12");
    Throwable below = engine.reader().read(tp(bySize, 0), 0, 100).handle((r, t) -> t).join();
    assertThat(((StorageException) StorageException.unwrap(below)).kind())
        .isEqualTo(Kind.OFFSET_OUT_OF_RANGE);
  }

  @Test
  void retentionAppliesOnlyWhenTheCleanupPolicyIncludesDelete() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    // Kafka 4's empty cleanup.policy: neither delete nor compact, so nothing ever expires.
    TopicInfo kept =
        h.topics.create("kept", 1, Map.of("retention.ms", "60000", "cleanup.policy", "")).join();
    TopicInfo deleted =
        h.topics
            .create("deleted", 1, Map.of("retention.ms", "60000", "cleanup.policy", "delete"))
            .join();
    h.own(engine, kept);
    h.own(engine, deleted);
    long old = System.currentTimeMillis() - 3_600_000;
    for (TopicInfo topic : List.of(kept, deleted)) {
      for (int i = 0; i < 3; i++) {
        engine
            .logs()
            .append(
                tp(topic, 0),
                h.epoch(tp(topic, 0)),
                TestBatches.values(old, "old" + i),
                AppendOptions.defaults())
            .join();
      }
    }
    engine.maintenance().runOnce().join();
    assertThat(engine.reader().bounds(tp(kept, 0)).join().logStartOffset()).isZero();
    assertThat(engine.reader().bounds(tp(deleted, 0)).join().logStartOffset()).isEqualTo(3);
  }

  @Test
  void theSweeperRemovesOrphansAndKeepsCommittedObjects() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topic("orphans", 1);
    h.own(engine, topic);
    engine
        .logs()
        .append(
            tp(topic, 0),
            h.epoch(tp(topic, 0)),
            TestBatches.values("kept"),
            AppendOptions.defaults())
        .join();
    try (S3Client admin = S3ProxyFixture.get().adminClient()) {
      // What a PUT looks like whose commit never happened.
      admin.putObject(
          b -> b.bucket(h.objectStoreConfig.bucket()).key("wal/orphan-1"),
          RequestBody.fromString("junk"));
    }
    engine.maintenance().runOnce().join();
    assertThat(bucketKeys()).contains("wal/orphan-1");
    // Once older than the orphan grace (2 s here), a pass removes it.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              engine.maintenance().runOnce().join();
              return !bucketKeys().contains("wal/orphan-1");
            });
    assertThat(bucketKeys()).hasSize(1);
    assertThat(TestBatches.read(h.engine(8).reader().read(tp(topic, 0), 0, 100).join().records()))
        .extracting(Read::value)
        .containsExactly("kept");
  }

  @Test
  void aDeletedTopicsDataIsPurged() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topic("doomed", 2);
    h.own(engine, topic);
    for (int p = 0; p < 2; p++) {
      engine
          .logs()
          .append(
              tp(topic, p),
              h.epoch(tp(topic, p)),
              TestBatches.values("x"),
              AppendOptions.defaults())
          .join();
    }
    TopicPartitionId tp0 = tp(topic, 0);
    assertThat(h.topics.markDeleted(topic.topicId()).join()).isTrue();
    assertThat(h.topics.byName("doomed").join()).isEmpty();
    // The name is free at once.
    assertThat(h.topic("doomed", 1).topicId()).isNotEqualTo(topic.topicId());
    engine.maintenance().runOnce().join();
    assertThat(
            h.queryLong(
                "SELECT COUNT(*) FROM batch_index WHERE topic_id = '" + tp0.topicId() + "'"))
        .isZero();
    assertThat(h.queryLong("SELECT COUNT(*) FROM objects WHERE state = 'LIVE'")).isZero();
    expireGracePeriods();
    engine.maintenance().runOnce().join();
    assertThat(bucketKeys()).isEmpty();
    Throwable late =
        engine
            .logs()
            .append(
                tp0,
                engine.logs().local(tp0).orElseThrow().leaderEpoch(),
                TestBatches.values("late"),
                AppendOptions.defaults())
            .handle((r, t) -> t)
            .join();
    assertThat(((StorageException) StorageException.unwrap(late)).kind())
        .isEqualTo(Kind.UNKNOWN_PARTITION);
    assertThat(engine.logs().owns(tp0)).isFalse();
  }

  /**
   * The one-minute deletion grace is too long for a test; move the deadlines instead of waiting.
   */
  private void expireGracePeriods() {
    h.metadata.inTransaction(
        c ->
            c.createStatement()
                .executeUpdate(
                    "UPDATE objects SET deletable_after = now() - interval '1 second' WHERE state = 'DELETING'"));
  }

  private long kindCount(String kind) {
    return h.queryLong(
        "SELECT COUNT(*) FROM objects WHERE kind = '" + kind + "' AND state = 'LIVE'");
  }

  private List<String> bucketKeys() {
    try (S3Client admin = S3ProxyFixture.get().adminClient()) {
      return admin.listObjectsV2(b -> b.bucket(h.objectStoreConfig.bucket())).contents().stream()
          .map(o -> o.key())
          .toList();
    }
  }
}
