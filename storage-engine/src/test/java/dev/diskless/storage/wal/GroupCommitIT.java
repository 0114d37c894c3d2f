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
 * minimum or a coordinator's write, so objects stay large; one request's appends to several
 * partitions, made under a hold, go into one flush.
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
    Writer w = writer(wal(NEVER, 4L << 20, 50), "lone");

    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      w.engine()
          .logs()
          .append(w.tp(), h.epoch(w.tp()), TestBatches.values("v" + i), AppendOptions.defaults())
          .get(60, TimeUnit.SECONDS);
      sent.add("v" + i);
    }

    assertThat(flushes(w.metrics(), "group-commit")).isEqualTo(5);
    assertThat(flushes(w.metrics(), "age")).isZero();
    assertThat(Logs.readAll(h.engine(900), w.tp())).extracting(Read::value).isEqualTo(sent);
  }

  @Test
  void groupCommitStaysWithinThePutCostCap() throws Exception {
    Writer w = writer(wal(NEVER, 4L << 20, 5), "capped");

    long start = System.nanoTime();
    for (int i = 0; i < 8; i++) {
      w.engine()
          .logs()
          .append(w.tp(), h.epoch(w.tp()), TestBatches.values("c" + i), AppendOptions.defaults())
          .get(60, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - start) / 1e9;

    // Five PUTs a second: flushes at least 200 ms apart, whatever the appends ask for.
    assertThat(flushes(w.metrics(), "group-commit")).isEqualTo(8);
    assertThat(seconds).isGreaterThanOrEqualTo(7 * 0.2);
  }

  @Test
  void heavyInputWaitsForTheAgeBoundSoObjectsStayLarge() {
    // A threshold of one byte a second: every append counts as heavy input.
    Writer w = writer(wal(Duration.ofMillis(200), 1, 50), "heavy");

    List<CompletableFuture<?>> acks = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      acks.add(
          w.engine()
              .logs()
              .append(
                  w.tp(),
                  h.epoch(w.tp()),
                  TestBatches.sized(1, 1000, "h" + i),
                  AppendOptions.defaults()));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();

    assertThat(flushes(w.metrics(), "group-commit")).isZero();
    // 50 appends issued at once land in very few objects (each flush waits 200 ms).
    assertThat(flushes(w.metrics(), "age")).isBetween(1L, 3L);
    assertThat(Logs.readAll(h.engine(901), w.tp())).hasSize(50);
  }

  @Test
  void underHeavyInputABufferOfTheMinimumSizeStillGoesAtOnce() throws Exception {
    // Every append counts as heavy input, and each holds more than the 64 KiB minimum.
    Writer w = writer(wal(NEVER, 1, 64 << 10, 50), "full");

    for (int i = 0; i < 4; i++) {
      w.engine()
          .logs()
          .append(
              w.tp(),
              h.epoch(w.tp()),
              TestBatches.sized(100, 1000, "f" + i),
              AppendOptions.defaults())
          .get(60, TimeUnit.SECONDS);
    }

    assertThat(flushes(w.metrics(), "group-commit")).isEqualTo(4);
    assertThat(Logs.readAll(h.engine(902), w.tp())).hasSize(400);
  }

  @Test
  void aCoordinatorsWriteIsFlushedByGroupCommitUnderHeavyInput() throws Exception {
    // Heavy input and a minimum far above the write: only its urgency starts the flush.
    Writer w = writer(wal(NEVER, 1, 50), "coordinated");

    w.engine()
        .logs()
        .append(w.tp(), h.epoch(w.tp()), TestBatches.values("state"), AppendOptions.coordinator())
        .get(60, TimeUnit.SECONDS);

    assertThat(flushes(w.metrics(), "group-commit")).isEqualTo(1);
  }

  @Test
  void oneRequestsAppendsToSeveralPartitionsGoInOneFlush() throws Exception {
    // Light input: without a hold the first append would go at once and the rest wait for it.
    Writer w = writer(wal(NEVER, 4L << 20, 50), "request", 4);

    List<CompletableFuture<?>> acks = new ArrayList<>();
    try (var hold = w.engine().logs().holdFlushes()) {
      for (int p = 0; p < 4; p++) {
        acks.add(append(w, p, "r" + p));
      }
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    assertThat(flushes(w.metrics(), "group-commit")).isEqualTo(1);
    for (int p = 0; p < 4; p++) {
      assertThat(Logs.readAll(h.engine(903), tp(w.topic(), p)))
          .extracting(Read::value)
          .containsExactly("r" + p);
    }
  }

  @Test
  void withoutAHoldTheSameAppendsAreSplitBetweenTwoFlushes() throws Exception {
    Writer w = writer(wal(NEVER, 4L << 20, 50), "unheld", 4);

    List<CompletableFuture<?>> acks = new ArrayList<>();
    for (int p = 0; p < 4; p++) {
      acks.add(append(w, p, "u" + p));
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    assertThat(flushes(w.metrics(), "group-commit")).isGreaterThan(1);
  }

  @Test
  void aHoldLeftOpenDelaysAFlushOnlyBriefly() throws Exception {
    Writer w = writer(wal(NEVER, 4L << 20, 50), "left-open", 1);

    var hold = w.engine().logs().holdFlushes();
    try {
      append(w, 0, "late").get(60, TimeUnit.SECONDS);
    } finally {
      hold.close();
    }

    assertThat(flushes(w.metrics(), "group-commit")).isEqualTo(1);
    assertThat(flushes(w.metrics(), "age")).isZero();
  }

  private CompletableFuture<?> append(Writer w, int partition, String value) {
    TopicPartitionId tp = tp(w.topic(), partition);
    return w.engine()
        .logs()
        .append(tp, h.epoch(tp), TestBatches.values(value), AppendOptions.defaults());
  }

  /** One engine owning one single-partition topic, with metrics to count its flushes by. */
  private record Writer(StorageMetrics metrics, StorageEngine engine, TopicInfo topic) {
    TopicPartitionId tp() {
      return StorageHarness.tp(topic, 0);
    }
  }

  private Writer writer(WalConfig wal, String topicName) {
    return writer(wal, topicName, 1);
  }

  private Writer writer(WalConfig wal, String topicName, int partitions) {
    h = StorageHarness.start().withWal(wal);
    StorageMetrics metrics = StorageMetrics.noExport();
    StorageEngine engine = h.engine(h.register("a").nodeId(), metrics);
    TopicInfo topic = h.topic(topicName, partitions);
    h.own(engine, topic);
    return new Writer(metrics, engine, topic);
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
