package dev.diskless.storage.log;

import dev.diskless.storage.TopicPartitionId;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The sequencer state of a partition this engine owns at one leader epoch. Mutable fields are
 * guarded by the {@link PartitionLogs} lock; the committed bounds are volatile so readers need no
 * lock.
 */
final class OwnedPartition {

  final TopicPartitionId id;
  final int leaderEpoch;

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

  OwnedPartition(TopicPartitionId id, int leaderEpoch, long highWatermark, long logStartOffset) {
    this.id = id;
    this.leaderEpoch = leaderEpoch;
    this.nextOffset = highWatermark;
    this.highWatermark = highWatermark;
    this.logStartOffset = logStartOffset;
  }
}
