package dev.diskless.storage.log;

import java.nio.ByteBuffer;

/**
 * Batches read from a partition, as contiguous record-batch bytes ready to be sent to a consumer.
 * The first batch may start before the requested offset (a batch is never split), never above the
 * high watermark.
 */
public record ReadResult(long highWatermark, long logStartOffset, ByteBuffer records) {
  public boolean isEmpty() {
    return !records.hasRemaining();
  }
}
