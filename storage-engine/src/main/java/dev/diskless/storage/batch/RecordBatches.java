package dev.diskless.storage.batch;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads, validates and stamps record batches in place. Everything the write path changes (base
 * offset, partition leader epoch) lies outside the CRC, except LogAppendTime, after which the CRC
 * is recomputed, exactly as Kafka does; the compressed records themselves are never touched.
 */
public final class RecordBatches {

  private RecordBatches() {}

  /**
   * Validates every batch in {@code buffer} (from its position to its limit): magic v2, complete
   * sizes, CRC32C, record counts, and the per-batch size limit. Returns the headers in order.
   * Throws a {@link StorageException} of kind {@link Kind#CORRUPT_BATCH} or {@link
   * Kind#BATCH_TOO_LARGE}; the buffer is not modified.
   */
  public static List<RecordBatchHeader> validate(ByteBuffer buffer, int maxBatchBytes) {
    List<RecordBatchHeader> headers = new ArrayList<>(1);
    int pos = buffer.position();
    int end = buffer.limit();
    if (pos == end) {
      throw new StorageException(Kind.CORRUPT_BATCH, "no record batch in the request");
    }
    while (pos < end) {
      if (end - pos < RecordBatchHeader.HEADER_SIZE) {
        throw new StorageException(
            Kind.CORRUPT_BATCH,
            "truncated record batch: " + (end - pos) + " bytes left, a header needs 61");
      }
      int length = buffer.getInt(pos + RecordBatchHeader.LENGTH_OFFSET);
      long size = (long) length + RecordBatchHeader.LOG_OVERHEAD;
      if (size < RecordBatchHeader.HEADER_SIZE) {
        throw new StorageException(
            Kind.CORRUPT_BATCH, "record batch length " + length + " is too small");
      }
      if (size > maxBatchBytes) {
        throw new StorageException(
            Kind.BATCH_TOO_LARGE,
            "record batch of " + size + " bytes exceeds the limit of " + maxBatchBytes + " bytes");
      }
      if (size > end - pos) {
        throw new StorageException(
            Kind.CORRUPT_BATCH,
            "record batch declares " + size + " bytes but only " + (end - pos) + " are present");
      }
      RecordBatchHeader header = read(buffer, pos, (int) size);
      if (header.magic() != RecordBatchHeader.MAGIC_V2) {
        throw new StorageException(
            Kind.CORRUPT_BATCH,
            "unsupported record batch magic " + header.magic() + "; only v2 is accepted");
      }
      long storedCrc = Integer.toUnsignedLong(buffer.getInt(pos + RecordBatchHeader.CRC_OFFSET));
      long computedCrc = crc(buffer, pos, (int) size);
      if (storedCrc != computedCrc) {
        throw new StorageException(
            Kind.CORRUPT_BATCH,
            "record batch CRC mismatch: stored " + storedCrc + ", computed " + computedCrc);
      }
      if (header.recordCount() <= 0 || header.lastOffsetDelta() != header.recordCount() - 1) {
        throw new StorageException(
            Kind.CORRUPT_BATCH,
            "record batch has "
                + header.recordCount()
                + " records but lastOffsetDelta "
                + header.lastOffsetDelta());
      }
      headers.add(header);
      pos += (int) size;
    }
    return headers;
  }

  /** Reads the header of the batch at {@code pos} without validating it. */
  public static RecordBatchHeader read(ByteBuffer buffer, int pos, int size) {
    return new RecordBatchHeader(
        pos,
        size,
        buffer.getLong(pos + RecordBatchHeader.BASE_OFFSET_OFFSET),
        buffer.getInt(pos + RecordBatchHeader.PARTITION_LEADER_EPOCH_OFFSET),
        buffer.get(pos + RecordBatchHeader.MAGIC_OFFSET),
        buffer.getShort(pos + RecordBatchHeader.ATTRIBUTES_OFFSET) & 0xffff,
        buffer.getInt(pos + RecordBatchHeader.LAST_OFFSET_DELTA_OFFSET),
        buffer.getLong(pos + RecordBatchHeader.BASE_TIMESTAMP_OFFSET),
        buffer.getLong(pos + RecordBatchHeader.MAX_TIMESTAMP_OFFSET),
        buffer.getLong(pos + RecordBatchHeader.PRODUCER_ID_OFFSET),
        buffer.getShort(pos + RecordBatchHeader.PRODUCER_EPOCH_OFFSET),
        buffer.getInt(pos + RecordBatchHeader.BASE_SEQUENCE_OFFSET),
        buffer.getInt(pos + RecordBatchHeader.RECORDS_COUNT_OFFSET));
  }

  /**
   * Walks the already-validated batches stored contiguously in {@code buffer} (e.g. a chunk read
   * back from an object) and returns their headers.
   */
  public static List<RecordBatchHeader> headers(ByteBuffer buffer) {
    List<RecordBatchHeader> headers = new ArrayList<>();
    int pos = buffer.position();
    int end = buffer.limit();
    while (end - pos >= RecordBatchHeader.HEADER_SIZE) {
      int size =
          buffer.getInt(pos + RecordBatchHeader.LENGTH_OFFSET) + RecordBatchHeader.LOG_OVERHEAD;
      if (size < RecordBatchHeader.HEADER_SIZE || size > end - pos) {
        break;
      }
      headers.add(read(buffer, pos, size));
      pos += size;
    }
    return headers;
  }

  /** The last offset of the last whole batch in {@code buffer}, or -1 if it holds none. */
  public static long lastOffset(ByteBuffer buffer) {
    List<RecordBatchHeader> headers = headers(buffer);
    return headers.isEmpty() ? -1 : headers.get(headers.size() - 1).lastOffset();
  }

  /**
   * Writes the base offset and partition leader epoch of the batch at {@code pos}; neither is
   * CRC-covered.
   */
  public static void stampOffsetAndEpoch(
      ByteBuffer buffer, int pos, long baseOffset, int leaderEpoch) {
    buffer.putLong(pos + RecordBatchHeader.BASE_OFFSET_OFFSET, baseOffset);
    buffer.putInt(pos + RecordBatchHeader.PARTITION_LEADER_EPOCH_OFFSET, leaderEpoch);
  }

  /**
   * Sets the batch's timestamp type to LogAppendTime with the given time and recomputes its CRC.
   */
  public static void stampLogAppendTime(ByteBuffer buffer, int pos, int size, long appendTimeMs) {
    int attributes = buffer.getShort(pos + RecordBatchHeader.ATTRIBUTES_OFFSET) & 0xffff;
    buffer.putShort(
        pos + RecordBatchHeader.ATTRIBUTES_OFFSET,
        (short) (attributes | RecordBatchHeader.TIMESTAMP_TYPE_MASK));
    buffer.putLong(pos + RecordBatchHeader.MAX_TIMESTAMP_OFFSET, appendTimeMs);
    buffer.putInt(pos + RecordBatchHeader.CRC_OFFSET, (int) crc(buffer, pos, size));
  }

  static long crc(ByteBuffer buffer, int pos, int size) {
    CRC32C crc = new CRC32C();
    ByteBuffer covered = buffer.duplicate();
    covered.limit(pos + size).position(pos + RecordBatchHeader.ATTRIBUTES_OFFSET);
    crc.update(covered);
    return crc.getValue();
  }
}
