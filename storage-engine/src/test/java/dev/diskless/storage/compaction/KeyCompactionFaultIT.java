package dev.diskless.storage.compaction;

import static dev.diskless.storage.testing.StorageHarness.tp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.metadata.KeyCompactionStore;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectInfo;
import dev.diskless.storage.objectstore.ObjectStore;
import dev.diskless.storage.testing.ForwardingObjectStore;
import dev.diskless.storage.testing.Logs;
import dev.diskless.storage.testing.Logs.Keyed;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.StorageHarness;
import dev.diskless.storage.testing.fault.Fault;
import dev.diskless.storage.testing.fault.FaultProxy;
import dev.diskless.storage.wal.WalConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

/**
 * Key compaction under faults: random S3 errors, resets, lost PUT responses, truncated GETs and
 * latency during runs, and a run that dies between its uploads and its swap (as a broker killed
 * mid-compaction). After every run, whatever it did, a cold reader finds a consistent log — offsets
 * strictly increasing, the log's end unchanged, every key ending at its latest value, nothing it
 * did not produce — and a later run without faults finishes the work.
 */
class KeyCompactionFaultIT {

  private static final Map<String, String> COMPACT =
      Map.of(
          "cleanup.policy", "compact",
          "segment.bytes", "2048",
          "min.cleanable.dirty.ratio", "0.01");

  private final AtomicLong now = new AtomicLong(1_800_000_000_000L);

  @Test
  void randomS3FaultsDuringRunsNeverLeaveAnInconsistentLog() throws Exception {
    long seed = Long.getLong("fault.seed", System.nanoTime());
    Random random = new Random(seed);
    try (FaultProxy proxy = new FaultProxy(S3ProxyFixture.get().endpoint());
        StorageHarness h =
            StorageHarness.startVia(proxy.endpoint())
                .withWal(
                    new WalConfig(
                        1 << 20, Duration.ofMillis(2), 1, 64L << 20, Duration.ofSeconds(1)))
                .withObjectStore(
                    c ->
                        c.withRetries(
                            2, Duration.ofMillis(5), Duration.ofMillis(50), Duration.ofSeconds(2)))
                .withCompaction(
                    new CompactionConfig(
                        Duration.ofHours(1), 16 << 10, 4 << 10, 1 << 10, Duration.ofMinutes(5)))
                .withBlockCache(0)) {
      StorageEngine engine = h.engine(h.register("a").nodeId());
      TopicInfo topic = h.topics.create("faulty", 1, COMPACT).join();
      h.own(engine, topic);
      TopicPartitionId tp = tp(topic, 0);
      List<Keyed> produced = new ArrayList<>();
      KeyCompactor compactor = compactor(h, h.objectStore(StorageMetrics.noExport()), engine);
      int cleaned = 0;
      int failed = 0;
      for (int round = 0; round < 12; round++) {
        proxy.plan((method, path) -> Fault.NONE);
        produce(h, engine, tp, produced, random, 15, 30);
        proxy.plan(
            (method, path) -> {
              double x;
              synchronized (random) {
                x = random.nextDouble();
              }
              if (x < 0.05) return new Fault.Status(503, "SlowDown");
              if (x < 0.08) return new Fault.Status(500, "InternalError");
              if (x < 0.11) return new Fault.Reset();
              if (x < 0.15 && method.equals("PUT")) return new Fault.DropResponse();
              if (x < 0.18) return new Fault.Delay(Duration.ofMillis(100));
              if (x < 0.22 && method.equals("GET")) return new Fault.TruncateBody();
              return Fault.NONE;
            });
        try {
          KeyCompactor.Outcome o =
              compactor.clean("faulty", tp, h.epoch(tp), KeyCompactionPolicy.of(COMPACT)).join();
          cleaned += o.cleaned() ? 1 : 0;
        } catch (RuntimeException e) {
          failed++;
        }
        proxy.plan((method, path) -> Fault.NONE);
        assertConsistent(Logs.readKeyed(h.engine(2000 + round), tp), produced, "seed " + seed);
      }
      // Without faults a run finishes what the faulty ones left.
      KeyCompactor.Outcome last =
          compactor.clean("faulty", tp, h.epoch(tp), KeyCompactionPolicy.of(COMPACT)).join();
      List<Keyed> read = Logs.readKeyed(h.engine(3000), tp);
      assertConsistent(read, produced, "seed " + seed);
      assertThat(read.size()).as("seed " + seed).isLessThan(produced.size());
      assertThat(cleaned + (last.cleaned() ? 1 : 0)).as("seed " + seed).isPositive();
      System.out.printf(
          "key compaction under S3 faults (seed %d): %d runs applied, %d failed, %d of %d records"
              + " left%n",
          seed, cleaned, failed, read.size(), produced.size());
    }
  }

  @Test
  void aRunThatDiesBetweenItsUploadsAndItsSwapChangesNothingAndIsRedone() throws Exception {
    try (StorageHarness h =
        StorageHarness.start()
            .withWal(
                new WalConfig(1 << 20, Duration.ofMillis(2), 1, 64L << 20, Duration.ofSeconds(1)))
            .withCompaction(
                new CompactionConfig(
                    Duration.ofHours(1), 16 << 10, 4 << 10, 1 << 10, Duration.ofSeconds(2)))) {
      StorageEngine engine = h.engine(h.register("a").nodeId());
      TopicInfo topic = h.topics.create("crashing", 1, COMPACT).join();
      h.own(engine, topic);
      TopicPartitionId tp = tp(topic, 0);
      List<Keyed> produced = new ArrayList<>();
      // Many distinct keys: the output spans several objects, so the run dies after uploading some.
      produce(h, engine, tp, produced, new Random(9), 60, 2_000);
      ObjectStore real = h.objectStore(StorageMetrics.noExport());
      DyingObjectStore dying = new DyingObjectStore(real, 2);
      List<String> before = keys(real);

      assertThat(
              compactor(h, dying, engine)
                  .clean("crashing", tp, h.epoch(tp), KeyCompactionPolicy.of(COMPACT)))
          .failsWithin(Duration.ofSeconds(30));

      assertThat(dying.puts.get()).isGreaterThanOrEqualTo(2);
      assertThat(Logs.readKeyed(h.engine(4000), tp)).containsExactlyElementsOf(produced);
      List<String> orphans = new ArrayList<>(keys(real));
      orphans.removeAll(before);
      assertThat(orphans).as("objects uploaded before the run died").isNotEmpty();
      // The sweeper removes them once older than the orphan grace (2 s here).
      Thread.sleep(2_500);
      engine.maintenance().runOnce().join();
      assertThat(keys(real)).doesNotContainAnyElementsOf(orphans);

      KeyCompactor.Outcome redone =
          compactor(h, real, engine)
              .clean("crashing", tp, h.epoch(tp), KeyCompactionPolicy.of(COMPACT))
              .join();
      assertThat(redone.cleaned()).isTrue();
      assertConsistent(Logs.readKeyed(h.engine(4001), tp), produced, "after the redo");
    }
  }

  private KeyCompactor compactor(StorageHarness h, ObjectStore objects, StorageEngine engine) {
    return new KeyCompactor(
        h.config().compaction(),
        new KeyCompactionStore(h.metadata),
        objects,
        engine.logs(),
        StorageMetrics.noExport(),
        engine.nodeId(),
        now::get,
        (tp, offset) -> {},
        dev.diskless.storage.CrashPoints.none());
  }

  private static List<String> keys(ObjectStore store) {
    return store.list("").join().stream().map(ObjectInfo::key).toList();
  }

  /** Fails every PUT from the {@code dieAt}-th on, as if the process died there. */
  private static final class DyingObjectStore extends ForwardingObjectStore {
    private final int dieAt;
    final AtomicInteger puts = new AtomicInteger();

    DyingObjectStore(ObjectStore delegate, int dieAt) {
      super(delegate);
      this.dieAt = dieAt;
    }

    @Override
    public CompletableFuture<Void> put(String key, ByteBuffer data) {
      if (puts.incrementAndGet() >= dieAt) {
        return CompletableFuture.failedFuture(new IllegalStateException("killed"));
      }
      return delegate.put(key, data);
    }

    @Override
    public CompletableFuture<Void> delete(Collection<String> keys) {
      return CompletableFuture.failedFuture(new IllegalStateException("killed"));
    }
  }

  /**
   * Offsets strictly increasing and all produced; the last record is the last produced (the end did
   * not move); each key's last value is its latest produced one; every record from the checkpoint
   * on is there.
   */
  private static void assertConsistent(List<Keyed> read, List<Keyed> produced, String why) {
    assertThat(read).as(why).extracting(Keyed::offset).isSorted().doesNotHaveDuplicates();
    assertThat(produced).as(why).containsAll(read);
    assertThat(read.get(read.size() - 1)).as(why).isEqualTo(produced.get(produced.size() - 1));
    Map<String, String> latest = new HashMap<>();
    produced.forEach(p -> latest.put(p.key(), p.value()));
    Map<String, String> lastRead = new HashMap<>();
    read.forEach(p -> lastRead.put(p.key(), p.value()));
    assertThat(lastRead).as(why).isEqualTo(latest);
  }

  private void produce(
      StorageHarness h,
      StorageEngine engine,
      TopicPartitionId tp,
      List<Keyed> produced,
      Random random,
      int batches,
      int keys) {
    for (int b = 0; b < batches; b++) {
      int n = 1 + random.nextInt(5);
      SimpleRecord[] records = new SimpleRecord[n];
      String[][] kv = new String[n][];
      for (int i = 0; i < n; i++) {
        String key = "k" + random.nextInt(keys);
        // Padded so that a run's output spans several objects.
        String value = key + "@" + produced.size() + "-" + i + "-" + "x".repeat(100);
        records[i] =
            new SimpleRecord(
                now.get(),
                key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8));
        kv[i] = new String[] {key, value};
      }
      Compression compression = b % 2 == 0 ? Compression.NONE : Compression.zstd().build();
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
        produced.add(new Keyed(base + i, kv[i][0], kv[i][1]));
      }
    }
  }
}
