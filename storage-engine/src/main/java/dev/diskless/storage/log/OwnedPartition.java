package dev.diskless.storage.log;

import dev.diskless.storage.TopicPartitionId;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The sequencer state of a partition this engine owns at one leader epoch. Mutable fields are
 * guarded by the {@link PartitionLogs} lock; the committed bounds are volatile so readers need no
 * lock.
 */
final class OwnedPartition {

  /**
   * How long after taking a partition over a producer it holds no state for must start at sequence
   * 0 ({@link IdempotenceCheck}). Longer than the Java client's default delivery timeout (2 min):
   * by then every batch a client sent to the previous owner has been acknowledged (and its producer
   * state came with the partition), has failed, or has expired in the client, which then bumps its
   * epoch and starts again at 0.
   */
  static final Duration TAKE_OVER_WINDOW = Duration.ofSeconds(150);

  final TopicPartitionId id;
  final int leaderEpoch;

  /** Whether another owner (or an earlier session of this broker) had the partition before. */
  private final boolean takenOver;

  /** {@link System#nanoTime()} when this engine opened the partition. */
  private final long openedAtNanos;

  /** Next offset to assign, including appends still in the WAL. */
  long nextOffset;

  /** Appends handed to the WAL whose fate is not known yet. */
  int pendingAppends;

  /**
   * A flush failed: offsets above the committed high watermark are void until state is reloaded.
   */
  boolean needsReload;

  CompletableFuture<Void> reload;
  boolean releasing;
  final Map<Long, ProducerEntry> producers = new HashMap<>();

  volatile long highWatermark;
  volatile long logStartOffset;

  OwnedPartition(
      TopicPartitionId id,
      int leaderEpoch,
      long highWatermark,
      long logStartOffset,
      boolean takenOver,
      long openedAtNanos) {
    this.id = id;
    this.leaderEpoch = leaderEpoch;
    this.takenOver = takenOver;
    this.openedAtNanos = openedAtNanos;
    this.nextOffset = highWatermark;
    this.highWatermark = highWatermark;
    this.logStartOffset = logStartOffset;
  }

  /**
   * Whether a producer this partition holds no state for must start at sequence 0 at {@code
   * nowNanos}: only within {@link #TAKE_OVER_WINDOW} of taking the partition over, when a batch the
   * producer sent to the previous owner may still be on its way here.
   */
  boolean unknownProducersStartAtZero(long nowNanos) {
    return takenOver && nowNanos - openedAtNanos < TAKE_OVER_WINDOW.toNanos();
  }
}
