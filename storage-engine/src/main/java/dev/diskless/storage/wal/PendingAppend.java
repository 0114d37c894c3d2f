package dev.diskless.storage.wal;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.AbortedTransaction;
import dev.diskless.storage.metadata.ProducerSnapshot;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Batches of one partition, already validated and stamped with their offsets, waiting in the WAL.
 * {@code committed} completes after the metadata commit of the flush that holds them, or fails with
 * a storage error.
 *
 * @param producers the state of every producer this append touched, as it is after the append
 * @param aborted the transactions whose ABORT marker this append holds
 */
public record PendingAppend(
    TopicPartitionId partition,
    int leaderEpoch,
    ByteBuffer data,
    long baseOffset,
    long lastOffset,
    long maxTimestamp,
    int batchCount,
    List<ProducerSnapshot> producers,
    List<AbortedTransaction> aborted,
    CompletableFuture<Void> committed) {

  public int size() {
    return data.remaining();
  }
}
