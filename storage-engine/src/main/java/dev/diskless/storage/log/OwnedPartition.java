package dev.diskless.storage.log;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.AbortedTransaction;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;

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

  /**
   * Transactions open on the partition, by the offset of their first record, to the producer id:
   * the last stable offset stops at the first. A transaction leaves only when its marker is
   * committed. Written under the lock; read without it.
   */
  final ConcurrentSkipListMap<Long, Long> openTransactions = new ConcurrentSkipListMap<>();

  /** Markers appended but not committed yet, by their offset. */
  final ConcurrentSkipListMap<Long, EndedTransaction> pendingEnds = new ConcurrentSkipListMap<>();

  /** The aborted-transaction index from the log start offset on, by the ABORT marker's offset. */
  final ConcurrentSkipListMap<Long, AbortedTransaction> aborted = new ConcurrentSkipListMap<>();

  /** A transaction a marker ends, once that marker commits. */
  record EndedTransaction(long producerId, long firstOffset, long markerOffset, boolean commit) {}

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

  /**
   * Kafka's last stable offset: the high watermark, or the first offset of the oldest transaction
   * still open, whichever is lower. Records below it are decided (committed or aborted).
   */
  long lastStableOffset() {
    long hw = highWatermark;
    Map.Entry<Long, Long> first = openTransactions.firstEntry();
    return first == null ? hw : Math.min(hw, first.getKey());
  }

  /** Rebuilds the open transactions from the producers' state (after a load). Caller locks. */
  void indexOpenTransactions() {
    openTransactions.clear();
    pendingEnds.clear();
    for (ProducerEntry e : producers.values()) {
      if (e.txnFirstOffset >= 0) {
        openTransactions.put(e.txnFirstOffset, e.producerId);
      }
    }
  }

  /**
   * The commit reached {@code highWatermark}: the transactions whose markers it holds are decided.
   * The aborted ones enter the index before they stop holding back the last stable offset.
   */
  void markersCommitted(long highWatermark) {
    while (true) {
      Map.Entry<Long, EndedTransaction> next = pendingEnds.firstEntry();
      if (next == null || next.getKey() >= highWatermark) {
        return;
      }
      EndedTransaction t = next.getValue();
      if (!t.commit()) {
        aborted.put(
            t.markerOffset(),
            new AbortedTransaction(t.producerId(), t.firstOffset(), t.markerOffset()));
      }
      openTransactions.remove(t.firstOffset(), t.producerId());
      pendingEnds.remove(next.getKey());
    }
  }
}
