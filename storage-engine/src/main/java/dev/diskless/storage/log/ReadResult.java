package dev.diskless.storage.log;

import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.metadata.AbortedTransaction;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Batches read from a partition, ready to be sent to a consumer: contiguous record-batch bytes,
 * kept as the runs they were found in (views of cached chunks, in offset order) so that a reply can
 * send them one after another without joining them first. The first batch may start before the
 * requested offset (a batch is never split), never above the high watermark — nor above the last
 * stable offset for a read of committed data only, which also carries the aborted transactions
 * overlapping what it returns.
 *
 * @param lastStableOffset the partition's last stable offset where the reader knows it (the owner),
 *     else the high watermark
 * @param runs the batches' bytes, each run whole batches; read-only views callers must not change
 */
public record ReadResult(
    long highWatermark,
    long logStartOffset,
    long lastStableOffset,
    List<ByteBuffer> runs,
    List<AbortedTransaction> abortedTransactions) {

  public ReadResult {
    runs = List.copyOf(runs);
    abortedTransactions = List.copyOf(abortedTransactions);
  }

  /** A result with no batches. */
  public static ReadResult empty(long highWatermark, long logStartOffset, long lastStableOffset) {
    return new ReadResult(highWatermark, logStartOffset, lastStableOffset, List.of(), List.of());
  }

  public boolean isEmpty() {
    return sizeInBytes() == 0;
  }

  /** The bytes of all runs. */
  public int sizeInBytes() {
    int size = 0;
    for (ByteBuffer run : runs) {
      size += run.remaining();
    }
    return size;
  }

  /**
   * All batches in one buffer: the run itself when there is one, else a copy of the runs joined,
   * for callers that walk the batches rather than send them.
   */
  public ByteBuffer records() {
    if (runs.size() == 1) {
      return runs.getFirst().duplicate();
    }
    ByteBuffer joined = ByteBuffer.allocate(sizeInBytes());
    runs.forEach(r -> joined.put(r.duplicate()));
    return joined.flip();
  }

  /** The last offset of the last batch; only for a result that is not empty. */
  public long lastOffset() {
    return RecordBatches.lastOffset(runs.getLast());
  }
}
