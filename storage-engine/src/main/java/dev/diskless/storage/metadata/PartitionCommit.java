package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.util.List;

/**
 * What one WAL flush commits for one partition: the epoch the batches were appended under, where
 * they are, and the producer state after them. The commit succeeds only if the partition's high
 * watermark still equals {@code entry.baseOffset()}: offsets stay dense even if an earlier flush
 * failed. {@code aborted} are the transactions whose ABORT marker these batches hold.
 */
public record PartitionCommit(
    TopicPartitionId partition,
    int leaderEpoch,
    IndexEntry entry,
    List<ProducerSnapshot> producers,
    List<AbortedTransaction> aborted) {
  public PartitionCommit {
    producers = List.copyOf(producers);
    aborted = List.copyOf(aborted);
  }
}
