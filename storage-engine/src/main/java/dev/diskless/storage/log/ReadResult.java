package dev.diskless.storage.log;

import dev.diskless.storage.metadata.AbortedTransaction;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Batches read from a partition, as contiguous record-batch bytes ready to be sent to a consumer.
 * The first batch may start before the requested offset (a batch is never split), never above the
 * high watermark — nor above the last stable offset for a read of committed data only, which also
 * carries the aborted transactions overlapping what it returns.
 *
 * @param lastStableOffset the partition's last stable offset where the reader knows it (the owner),
 *     else the high watermark
 */
public record ReadResult(
    long highWatermark,
    long logStartOffset,
    long lastStableOffset,
    ByteBuffer records,
    List<AbortedTransaction> abortedTransactions) {

  public ReadResult {
    abortedTransactions = List.copyOf(abortedTransactions);
  }

  public boolean isEmpty() {
    return !records.hasRemaining();
  }
}
