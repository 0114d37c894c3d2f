package dev.diskless.storage.batch;

/**
 * The fixed 61-byte header of a Kafka record batch (magic v2), as read from the wire. The storage
 * engine reads only this header: it never decompresses or parses the records themselves, which
 * keeps it independent of Kafka's libraries and of compression codecs.
 *
 * @param position where the batch starts in the buffer it was read from
 * @param sizeInBytes the whole batch including the offset and length fields
 */
public record RecordBatchHeader(
    int position,
    int sizeInBytes,
    long baseOffset,
    int partitionLeaderEpoch,
    byte magic,
    int attributes,
    int lastOffsetDelta,
    long baseTimestamp,
    long maxTimestamp,
    long producerId,
    short producerEpoch,
    int baseSequence,
    int recordCount) {

  public static final int HEADER_SIZE = 61;
  public static final int LOG_OVERHEAD = 12;
  public static final byte MAGIC_V2 = 2;
  public static final long NO_PRODUCER_ID = -1L;

  static final int BASE_OFFSET_OFFSET = 0;
  static final int LENGTH_OFFSET = 8;
  static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
  static final int MAGIC_OFFSET = 16;
  static final int CRC_OFFSET = 17;
  static final int ATTRIBUTES_OFFSET = 21;
  static final int LAST_OFFSET_DELTA_OFFSET = 23;
  static final int BASE_TIMESTAMP_OFFSET = 27;
  static final int MAX_TIMESTAMP_OFFSET = 35;
  static final int PRODUCER_ID_OFFSET = 43;
  static final int PRODUCER_EPOCH_OFFSET = 51;
  static final int BASE_SEQUENCE_OFFSET = 53;
  static final int RECORDS_COUNT_OFFSET = 57;

  static final int TIMESTAMP_TYPE_MASK = 0x08;
  static final int TRANSACTIONAL_MASK = 0x10;
  static final int CONTROL_MASK = 0x20;

  public long lastOffset() {
    return baseOffset + lastOffsetDelta;
  }

  public boolean hasProducerId() {
    return producerId != NO_PRODUCER_ID;
  }

  public int lastSequence() {
    // Sequences wrap at Integer.MAX_VALUE, as in Kafka.
    long last = (long) baseSequence + lastOffsetDelta;
    return last > Integer.MAX_VALUE ? (int) (last - Integer.MAX_VALUE - 1) : (int) last;
  }

  public boolean isTransactional() {
    return (attributes & TRANSACTIONAL_MASK) != 0;
  }

  public boolean isControl() {
    return (attributes & CONTROL_MASK) != 0;
  }

  public boolean logAppendTime() {
    return (attributes & TIMESTAMP_TYPE_MASK) != 0;
  }
}
