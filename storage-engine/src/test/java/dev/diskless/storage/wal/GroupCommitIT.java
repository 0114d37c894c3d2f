package dev.diskless.storage.wal;

import static dev.diskless.storage.testing.StorageHarness.tp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.testing.Logs;
import dev.diskless.storage.testing.StorageHarness;
import dev.diskless.storage.testing.TestBatches;
import dev.diskless.storage.testing.TestBatches.Read;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The object WAL's flush policy against real S3Proxy and PostgreSQL: light input is flushed by
 * group commit (a lone append is acknowledged long before the age bound), within the PUT cost cap;
 * heavy input waits for the age or size bound, unless the buffer already holds the group-commit
 * minimum or a coordinator's write, so objects stay large.
 */
class GroupCommitIT {

  /** An age bound no test waits for: an append acknowledged before it was flushed otherwise. */
  private static final Duration NEVER = Duration.ofMinutes(10);

  private StorageHarness h;

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void aLoneAppendIsFlushedByGroupCommitWithoutWaitingForTheAgeBound() throws Exception {
    h = StorageHarness.start().withWal(wal(NEVER, 4L << 20, 50));
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine engine = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic("lone", 1);
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);

    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      engine
          .logs()
          .append(tp, h.epoch(tp), TestBatches.values("v" + i), AppendOptions.defaults())
          .get(60, TimeUnit.SECONDS);
      sent.add("v" + i);
    }

    assertThat(flushes(metrics, "group-commit")).isEqualTo(5);
    assertThat(flushes(metrics, "age")).isZero();
    assertThat(Logs.readAll(h.engine(900), tp)).extracting(Read::value).isEqualTo(sent);
  }

  @Test
  void groupCommitStaysWithinThePutCostCap() throws Exception {
    h = StorageHarness.start().withWal(wal(NEVER, 4L << 20, 5));
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine engine = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic("capped", 1);
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);

    long start = System.nanoTime();
    for (int i = 0; i < 8; i++) {
      engine
          .logs()
          .append(tp, h.epoch(tp), TestBatches.values("c" + i), AppendOptions.defaults())
          .get(60, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - start) / 1e9;

    // Five PUTs a second: flushes at least 200 ms apart, whatever the appends ask for.
    assertThat(flushes(metrics, "group-commit")).isEqualTo(8);
    assertThat(seconds).isGreaterThanOrEqualTo(7 * 0.2);
  }

  @Test
  void heavyInputWaitsForTheAgeBoundSoObjectsStayLarge() {
    // A threshold of one byte a second: every append counts as heavy input.
    h = StorageHarness.start().withWal(wal(Duration.ofMillis(200), 1, 50));
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine engine = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic("heavy", 1);
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);

    List<CompletableFuture<?>> acks = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      acks.add(
          engine
              .logs()
              .append(
                  tp, h.epoch(tp), TestBatches.sized(1, 1000, "h" + i), AppendOptions.defaults()));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();

    assertThat(flushes(metrics, "group-commit")).isZero();
    // 50 appends issued at once land in very few objects (each flush waits 200 ms).
    assertThat(flushes(metrics, "age")).isBetween(1L, 3L);
    assertThat(Logs.readAll(h.engine(901), tp)).hasSize(50);
  }

  @Test
  void underHeavyInputABufferOfTheMinimumSizeStillGoesAtOnce() throws Exception {
    // Every append counts as heavy input, and each holds more than the 64 KiB minimum.
    h = StorageHarness.start().withWal(wal(NEVER, 1, 64 << 10, 50));
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine engine = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic("full", 1);
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);

    for (int i = 0; i < 4; i++) {
      engine
          .logs()
          .append(tp, h.epoch(tp), TestBatches.sized(100, 1000, "f" + i), AppendOptions.defaults())
          .get(60, TimeUnit.SECONDS);
    }

    assertThat(flushes(metrics, "group-commit")).isEqualTo(4);
    assertThat(Logs.readAll(h.engine(902), tp)).hasSize(400);
  }

  @Test
  void aCoordinatorsWriteIsFlushedByGroupCommitUnderHeavyInput() throws Exception {
    // Heavy input and a minimum far above the write: only its urgency starts the flush.
    h = StorageHarness.start().withWal(wal(NEVER, 1, 50));
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine engine = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic("coordinated", 1);
    h.own(engine, topic);
    TopicPartitionId tp = tp(topic, 0);

    engine
        .logs()
        .append(tp, h.epoch(tp), TestBatches.values("state"), AppendOptions.coordinator())
        .get(60, TimeUnit.SECONDS);

    assertThat(flushes(metrics, "group-commit")).isEqualTo(1);
  }

  private static WalConfig wal(Duration maxAge, long groupCommitBytesPerSecond, int putsPerSecond) {
    return wal(maxAge, groupCommitBytesPerSecond, 4L << 20, putsPerSecond);
  }

  private static WalConfig wal(
      Duration maxAge, long groupCommitBytesPerSecond, long minBytes, int putsPerSecond) {
    return new WalConfig(8 << 20, maxAge, 4, 64L << 20, Duration.ofMinutes(2))
        .withGroupCommit(groupCommitBytesPerSecond, minBytes, putsPerSecond);
  }

  private static long flushes(StorageMetrics metrics, String trigger) {
    var counter = metrics.registry().find("diskless.wal.flushes").tag("trigger", trigger).counter();
    return counter == null ? 0 : (long) counter.count();
  }
}
