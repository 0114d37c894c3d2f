package dev.diskless.storage.compaction;

import static dev.diskless.storage.testing.StorageHarness.tp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.testing.Logs;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.StorageHarness;
import dev.diskless.storage.testing.TestBatches;
import dev.diskless.storage.testing.TestBatches.Read;
import dev.diskless.storage.wal.WalConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    assertThat(compactionReadBytes(metrics, "cache")).isEqualTo(walBytes);
    assertThat(compactionReadBytes(metrics, "object-store")).isZero();
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
    assertThat(compactionReadBytes(metrics, "cache")).isZero();
    assertThat(compactionReadBytes(metrics, "object-store")).isGreaterThan(30 * 2000L);
    assertThat(Logs.readAll(h.engine(800), tp(topic, 0)))
        .extracting(Read::value)
        .containsExactlyElementsOf(sent);
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
  void theSweeperRemovesOrphansAndKeepsCommittedObjects() throws Exception {
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
    Thread.sleep(2500);
    engine.maintenance().runOnce().join();
    assertThat(bucketKeys()).doesNotContain("wal/orphan-1").hasSize(1);
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

  private static long compactionReadBytes(StorageMetrics metrics, String source) {
    var counter =
        metrics.registry().find("diskless.compaction.read.bytes").tag("source", source).counter();
    return counter == null ? 0 : (long) counter.count();
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
