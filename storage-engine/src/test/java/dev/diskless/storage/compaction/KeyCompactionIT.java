package dev.diskless.storage.compaction;

import static dev.diskless.storage.testing.StorageHarness.tp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.metadata.AbortedTransaction;
import dev.diskless.storage.metadata.KeyCompactionStore;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.testing.Logs;
import dev.diskless.storage.testing.Logs.Keyed;
import dev.diskless.storage.testing.StorageHarness;
import dev.diskless.storage.testing.TestBatches;
import dev.diskless.storage.wal.WalConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Key compaction over real PostgreSQL and S3Proxy, checked against a model of what Kafka's log
 * cleaner keeps: below the offset a run mapped to, the latest record of each key (a tombstone until
 * its delete horizon has passed); from there on, everything.
 */
class KeyCompactionIT {

  private static final Map<String, String> COMPACT =
      Map.of(
          "cleanup.policy", "compact",
          "segment.bytes", "2048",
          "delete.retention.ms", "60000",
          "min.cleanable.dirty.ratio", "0.01");

  private StorageHarness h;
  private final AtomicLong now = new AtomicLong(1_800_000_000_000L);

  @BeforeEach
  void start() {
    h =
        StorageHarness.start()
            .withWal(
                new WalConfig(1 << 20, Duration.ofMillis(2), 1, 64L << 20, Duration.ofSeconds(1)))
            .withCompaction(
                new CompactionConfig(
                    Duration.ofHours(1), 16 << 10, 64 << 10, 16 << 10, Duration.ofMinutes(5)));
  }

  @AfterEach
  void stop() {
    h.close();
  }

  private KeyCompactor compactor(StorageEngine engine, long mapBytes) {
    CompactionConfig c = h.config().compaction();
    return new KeyCompactor(
        new CompactionConfig(
            c.interval(),
            c.minWalBytes(),
            c.segmentBytes(),
            c.chunkBytes(),
            c.orphanGrace(),
            mapBytes),
        new KeyCompactionStore(h.metadata),
        h.objectStore(StorageMetrics.noExport()),
        engine.logs(),
        StorageMetrics.noExport(),
        engine.nodeId(),
        now::get,
        (tp, offset) -> {},
        dev.diskless.storage.CrashPoints.none());
  }

  @Test
  void theLatestRecordOfEachKeyIsKeptOffsetsStayAndTombstonesGoAfterTheirHorizon() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topics.create("changelog", 1, COMPACT).join();
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);
    KeyCompactionPolicy policy = KeyCompactionPolicy.of(topic.configs());
    List<Keyed> produced = new ArrayList<>();
    Random random = new Random(42);
    produce(engine, tp, produced, random, 30, 12, "k");
    // Two keys end deleted, then other keys follow, so these tombstones stay their keys' latest.
    tombstones(engine, tp, produced, "k0", "k1");
    produce(engine, tp, produced, random, 30, 12, "m");

    KeyCompactor.Outcome first =
        compactor(engine, 1 << 20).clean("changelog", tp, h.epoch(tp), policy).join();

    assertThat(first.cleaned()).isTrue();
    assertThat(first.firstDirtyOffset()).isZero();
    assertThat(first.cleanedOffset()).isBetween(1L, (long) produced.size() - 1);
    assertThat(first.recordsRetained()).isLessThan(first.recordsRead());
    List<Keyed> afterFirst = Logs.readKeyed(h.engine(900), tp);
    assertThat(afterFirst).containsExactlyElementsOf(model(produced, first.cleanedOffset(), false));
    // The tail past the cleaned part is exactly as produced, and the log end did not move.
    assertThat(afterFirst.get(afterFirst.size() - 1)).isEqualTo(produced.get(produced.size() - 1));
    assertThat(h.queryLong("SELECT cleaned_offset FROM partitions"))
        .isEqualTo(first.cleanedOffset());
    // What was replaced is no longer referenced: it waits out the deletion grace.
    assertThat(h.queryLong("SELECT COUNT(*) FROM objects WHERE state = 'DELETING'")).isPositive();

    // The first run keeps the latest tombstones: their delete horizon starts now.
    assertThat(afterFirst)
        .filteredOn(p -> p.value() == null && p.offset() < first.cleanedOffset())
        .isNotEmpty();

    // More writes, of other keys, make the log dirty again; past delete.retention.ms the next run
    // drops the tombstones the first one kept (their batches carry the horizon it stamped).
    produce(engine, tp, produced, random, 40, 12, "j");
    now.addAndGet(61_000);
    KeyCompactor.Outcome second =
        compactor(engine, 1 << 20).clean("changelog", tp, h.epoch(tp), policy).join();

    assertThat(second.cleaned()).isTrue();
    assertThat(second.firstDirtyOffset()).isEqualTo(first.cleanedOffset());
    List<Keyed> afterSecond = Logs.readKeyed(h.engine(901), tp);
    long end = second.cleanedOffset();
    List<Keyed> expected = model(produced, end, false);
    // Records with values: exactly the model. Tombstones: each still the latest of its key, none
    // left below the first run's end (stamped then, expired now), every one from the end on kept.
    assertThat(afterSecond.stream().filter(p -> p.value() != null).toList())
        .containsExactlyElementsOf(expected.stream().filter(p -> p.value() != null).toList());
    assertThat(afterSecond.stream().filter(p -> p.value() == null).toList())
        .isSubsetOf(expected)
        .noneMatch(p -> p.offset() < first.cleanedOffset())
        .containsAll(
            produced.stream().filter(p -> p.value() == null && p.offset() >= end).toList());
  }

  @Test
  void abortedTransactionsAreDroppedWithoutHidingCommittedRecordsAndOpenOnesWait() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topics.create("txn-changelog", 1, COMPACT).join();
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);
    KeyCompactionPolicy policy = KeyCompactionPolicy.of(topic.configs());
    List<Keyed> produced = new ArrayList<>();
    Random random = new Random(11);
    long committed = transactional(engine, tp, 71, 0, "k", "committed");
    engine
        .logs()
        .append(tp, h.epoch(tp), TestBatches.marker(71, (short) 0, 1, true), opts())
        .join();
    long aborted = transactional(engine, tp, 72, 0, "k", "aborted");
    engine
        .logs()
        .append(tp, h.epoch(tp), TestBatches.marker(72, (short) 0, 1, false), opts())
        .join();
    produce(engine, tp, produced, random, 30, 12, "m");
    long open = transactional(engine, tp, 73, 0, "k", "open");
    produce(engine, tp, produced, random, 30, 12, "j");

    KeyCompactor.Outcome o =
        compactor(engine, 1 << 20).clean("txn-changelog", tp, h.epoch(tp), policy).join();

    assertThat(o.cleaned()).isTrue();
    // Nothing from the open transaction on is cleaned: it may still abort.
    assertThat(o.cleanedOffset()).isLessThanOrEqualTo(open);
    List<Keyed> after = Logs.readKeyed(h.engine(902), tp);
    assertThat(after)
        .contains(new Keyed(committed, "k", "committed"), new Keyed(open, "k", "open"))
        .noneMatch(k -> k.offset() == aborted);
    assertThat(after).containsAll(produced.stream().filter(p -> p.offset() > open).toList());
    // The markers stay: a read_committed reader still needs the ABORT to end its skipping.
    assertThat(engine.reader().readCommitted(tp, 0, 1 << 20).join().abortedTransactions())
        .containsExactly(new AbortedTransaction(72, aborted, aborted + 1));
  }

  private long transactional(
      StorageEngine engine, TopicPartitionId tp, long producerId, int seq, String key, String v) {
    return engine
        .logs()
        .append(
            tp,
            h.epoch(tp),
            MemoryRecords.withTransactionalRecords(
                    Compression.NONE,
                    producerId,
                    (short) 0,
                    seq,
                    new SimpleRecord(
                        now.get(),
                        key.getBytes(StandardCharsets.UTF_8),
                        v.getBytes(StandardCharsets.UTF_8)))
                .buffer(),
            opts())
        .join()
        .baseOffset();
  }

  private static AppendOptions opts() {
    return AppendOptions.defaults();
  }

  @Test
  void aSmallKeyMapCleansInSeveralRunsAndEachLeavesAConsistentLog() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topics.create("many-keys", 1, COMPACT).join();
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);
    KeyCompactionPolicy policy = KeyCompactionPolicy.of(topic.configs());
    List<Keyed> produced = new ArrayList<>();
    produce(engine, tp, produced, new Random(7), 80, 400, "k");
    // 64 slots, 57 keys: far fewer than the 400 keys in the dirty part.
    KeyCompactor small = compactor(engine, 64L * KeyOffsetMap.BYTES_PER_SLOT);

    long cleanedTo = 0;
    int runs = 0;
    while (runs < 40) {
      KeyCompactor.Outcome o = small.clean("many-keys", tp, h.epoch(tp), policy).join();
      if (!o.cleaned()) {
        break;
      }
      runs++;
      assertThat(o.firstDirtyOffset()).isEqualTo(cleanedTo);
      // After the first run the cleaned part counts as clean: the ratio is the dirty share only.
      if (runs == 1) {
        assertThat(o.dirtyRatio()).isEqualTo(1.0);
      } else {
        assertThat(o.dirtyRatio()).isLessThan(1.0);
      }
      cleanedTo = o.cleanedOffset();
      List<Keyed> read = Logs.readKeyed(h.engine(1000 + runs), tp);
      assertThat(read).extracting(Keyed::offset).isSorted().doesNotHaveDuplicates();
      // Every record produced at or past the mapped end is still there; a key this run mapped
      // appears below that end only at its latest offset in the mapped range.
      assertThat(read)
          .containsAll(produced.stream().filter(p -> p.offset() >= o.cleanedOffset()).toList());
      Map<String, Long> mapped = new HashMap<>();
      produced.stream()
          .filter(p -> p.offset() >= o.firstDirtyOffset() && p.offset() < o.cleanedOffset())
          .forEach(p -> mapped.put(p.key(), p.offset()));
      assertThat(read)
          .filteredOn(p -> p.offset() < o.cleanedOffset() && mapped.containsKey(p.key()))
          .allMatch(p -> p.offset() == mapped.get(p.key()));
    }
    assertThat(runs).isGreaterThan(2);
  }

  @Test
  void theEnginesMaintenanceCompactsTopicsThatAskForItAndOnlyThose() {
    now.set(System.currentTimeMillis());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StorageEngine engine = h.engine(h.register("a").nodeId(), new StorageMetrics(registry));
    TopicInfo compacted = h.topics.create("compacted", 1, COMPACT).join();
    Map<String, String> deleteOnly = new HashMap<>(COMPACT);
    deleteOnly.put("cleanup.policy", "delete");
    TopicInfo appendOnly = h.topics.create("append-only", 1, deleteOnly).join();
    h.own(engine, compacted);
    h.own(engine, appendOnly);
    List<Keyed> a = new ArrayList<>();
    List<Keyed> b = new ArrayList<>();
    produce(engine, tp(compacted, 0), a, new Random(1), 40, 6, "k");
    produce(engine, tp(appendOnly, 0), b, new Random(1), 40, 6, "k");

    engine.maintenance().runOnce().join();

    List<Keyed> cold = Logs.readKeyed(h.engine(960), tp(compacted, 0));
    assertThat(cold).hasSizeLessThan(a.size());
    // The owner's own tail cache no longer serves the rewritten range.
    assertThat(Logs.readKeyed(engine, tp(compacted, 0))).isEqualTo(cold);
    // Per partition, by topic name: runs, bytes, records removed, and the dirty ratio after.
    assertThat(
            registry
                .get("diskless.key.compaction.runs")
                .tags("topic", "compacted", "partition", "0", "outcome", "cleaned")
                .counter()
                .count())
        .isEqualTo(1.0);
    assertThat(
            registry
                .get("diskless.key.compaction.records")
                .tags("topic", "compacted", "outcome", "removed")
                .counter()
                .count())
        .isEqualTo((double) a.size() - cold.size());
    assertThat(registry.find("diskless.key.compaction.runs").tags("topic", "append-only").counter())
        .isNull();
    engine.maintenance().runOnce().join();
    assertThat(
            registry
                .get("diskless.key.compaction.dirty.ratio")
                .tags("topic", "compacted", "partition", "0")
                .gauge()
                .value())
        .isLessThan(0.5);
    assertThat(Logs.readKeyed(h.engine(961), tp(appendOnly, 0))).containsExactlyElementsOf(b);
  }

  @Test
  void aRunOfAFormerOwnerChangesNothing() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topics.create("moved", 1, COMPACT).join();
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);
    List<Keyed> produced = new ArrayList<>();
    produce(engine, tp, produced, new Random(3), 30, 5, "k");
    int staleEpoch = h.epoch(tp) - 1;

    KeyCompactor.Outcome o =
        compactor(engine, 1 << 20)
            .clean("moved", tp, staleEpoch, KeyCompactionPolicy.of(topic.configs()))
            .join();

    assertThat(o.cleaned()).isFalse();
    assertThat(Logs.readKeyed(h.engine(950), tp)).containsExactlyElementsOf(produced);
    assertThat(h.queryLong("SELECT cleaned_offset FROM partitions")).isZero();
  }

  /**
   * Appends {@code batches} batches of 1–5 records over {@code keys} keys, about one in eight a
   * tombstone, with timestamps at the test clock.
   */
  private void produce(
      StorageEngine engine,
      TopicPartitionId tp,
      List<Keyed> produced,
      Random random,
      int batches,
      int keys,
      String keyPrefix) {
    for (int b = 0; b < batches; b++) {
      int n = 1 + random.nextInt(5);
      SimpleRecord[] records = new SimpleRecord[n];
      List<String[]> kv = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String key = keyPrefix + random.nextInt(keys);
        String value = random.nextInt(8) == 0 ? null : key + "@" + produced.size() + "-" + i;
        records[i] =
            new SimpleRecord(
                now.get(),
                key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
        kv.add(new String[] {key, value});
      }
      Compression compression = b % 2 == 0 ? Compression.NONE : Compression.lz4().build();
      long base =
          engine
              .logs()
              .append(
                  tp,
                  h.epoch(tp),
                  MemoryRecords.withRecords(compression, records).buffer(),
                  AppendOptions.defaults())
              .join()
              .baseOffset();
      for (int i = 0; i < n; i++) {
        produced.add(new Keyed(base + i, kv.get(i)[0], kv.get(i)[1]));
      }
    }
  }

  private void tombstones(
      StorageEngine engine, TopicPartitionId tp, List<Keyed> produced, String... keys) {
    SimpleRecord[] records = new SimpleRecord[keys.length];
    for (int i = 0; i < keys.length; i++) {
      records[i] = new SimpleRecord(now.get(), keys[i].getBytes(StandardCharsets.UTF_8), null);
    }
    long base =
        engine
            .logs()
            .append(
                tp,
                h.epoch(tp),
                MemoryRecords.withRecords(Compression.NONE, records).buffer(),
                AppendOptions.defaults())
            .join()
            .baseOffset();
    for (int i = 0; i < keys.length; i++) {
      produced.add(new Keyed(base + i, keys[i], null));
    }
  }

  /**
   * What a consumer reading from the start sees after cleaning up to {@code end}: below it the
   * latest record of each key (dropping tombstones when {@code horizonPassed}); from it on,
   * everything.
   */
  private static List<Keyed> model(List<Keyed> produced, long end, boolean horizonPassed) {
    Map<String, Long> latest = new HashMap<>();
    for (Keyed p : produced) {
      if (p.offset() < end) {
        latest.put(p.key(), p.offset());
      }
    }
    return produced.stream()
        .filter(
            p ->
                p.offset() >= end
                    || (latest.get(p.key()) == p.offset() && (p.value() != null || !horizonPassed)))
        .toList();
  }
}
