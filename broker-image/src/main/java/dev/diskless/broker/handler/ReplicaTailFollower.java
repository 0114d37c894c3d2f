package dev.diskless.broker.handler;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionOwnership;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes long-polling fetches that a read replica serves for partitions another broker owns. The
 * owner's commit listeners never fire here, so every {@code interval} one query asks the metadata
 * store for the committed high watermarks of all partitions that fetches wait on, and completes
 * each waiting fetch one of whose partitions moved past the high watermark it last read (or
 * vanished). Nothing is queried while nothing waits. Polls are timed as {@code
 * diskless.replica.tail.polls{outcome}}.
 */
public final class ReplicaTailFollower implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaTailFollower.class);

  /** A waiting fetch: the high watermark it read of each partition, and what wakes it. */
  private record Waiter(Map<TopicPartitionId, Long> seen, CompletableFuture<Void> done) {}

  private final PartitionOwnership ownership;
  private final Duration interval;
  private final Set<Waiter> waiting = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;
  private final Timer polled;
  private final Timer failed;

  public ReplicaTailFollower(
      PartitionOwnership ownership, Duration interval, MeterRegistry meters) {
    this.ownership = ownership;
    this.interval = interval;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("replica-tail").unstarted(r));
    this.polled = poll(meters, "ok");
    this.failed = poll(meters, "error");
  }

  private static Timer poll(MeterRegistry meters, String outcome) {
    return Timer.builder("diskless.replica.tail.polls")
        .description("Metadata queries for high watermarks of partitions read replicas wait on")
        .tag("outcome", outcome)
        .register(meters);
  }

  public ReplicaTailFollower start() {
    long ms = interval.toMillis();
    timer.scheduleWithFixedDelay(this::pollOnce, ms, ms, TimeUnit.MILLISECONDS);
    return this;
  }

  /**
   * Completes when the committed high watermark of any partition in {@code seen} passes the value
   * given for it. Complete the returned future to stop waiting.
   */
  public CompletableFuture<Void> await(Map<TopicPartitionId, Long> seen) {
    Waiter w = new Waiter(Map.copyOf(seen), new CompletableFuture<>());
    if (w.seen().isEmpty()) {
      return w.done();
    }
    waiting.add(w);
    w.done().whenComplete((v, t) -> waiting.remove(w));
    return w.done();
  }

  /** One poll: on the follower's own thread, so waiting for the database blocks nobody else. */
  void pollOnce() {
    if (waiting.isEmpty()) {
      return;
    }
    Set<TopicPartitionId> partitions = new HashSet<>();
    waiting.forEach(w -> partitions.addAll(w.seen().keySet()));
    long start = System.nanoTime();
    Map<TopicPartitionId, Long> committed;
    try {
      committed = ownership.highWatermarks(partitions).get(5, TimeUnit.SECONDS);
      polled.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      // The fetches still end at their max wait; the next poll tries again.
      failed.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      LOG.debug("high watermark poll failed: {}", e.toString());
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    for (Waiter w : waiting) {
      for (Map.Entry<TopicPartitionId, Long> e : w.seen().entrySet()) {
        Long now = committed.get(e.getKey());
        if (now == null || now > e.getValue()) {
          w.done().complete(null);
          break;
        }
      }
    }
  }

  /** Stops polling and wakes every waiting fetch, which then answers with what it can read. */
  @Override
  public void close() {
    timer.shutdownNow();
    waiting.forEach(w -> w.done().complete(null));
  }
}
