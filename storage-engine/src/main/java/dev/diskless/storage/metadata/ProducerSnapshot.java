package dev.diskless.storage.metadata;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The persisted state of one idempotent producer on one partition: its epoch and its last (up to
 * five) batches, which is what duplicate detection needs after an ownership move; and for a
 * transactional producer, where its open transaction on the partition starts ({@code
 * txnFirstOffset}, -1 if none: the last stable offset stops there) and the epoch of the coordinator
 * that wrote its last marker (-1 if none).
 */
public record ProducerSnapshot(
    long producerId,
    short producerEpoch,
    long lastTimestamp,
    List<ProducerBatch> recent,
    long txnFirstOffset,
    int coordinatorEpoch) {

  /** An idempotent producer's state, outside any transaction. */
  public ProducerSnapshot(
      long producerId, short producerEpoch, long lastTimestamp, List<ProducerBatch> recent) {
    this(producerId, producerEpoch, lastTimestamp, recent, -1, -1);
  }

  /**
   * Kafka keeps the metadata of the last five batches per producer; clients never have more in
   * flight.
   */
  public static final int MAX_RECENT = 5;

  private static final int ENTRY_BYTES = 24;

  public ProducerSnapshot {
    recent = List.copyOf(recent);
  }

  byte[] encodeRecent() {
    ByteBuffer buf = ByteBuffer.allocate(recent.size() * ENTRY_BYTES);
    for (ProducerBatch b : recent) {
      buf.putInt(b.firstSequence())
          .putInt(b.lastSequence())
          .putLong(b.baseOffset())
          .putLong(b.lastOffset());
    }
    return buf.array();
  }

  static List<ProducerBatch> decodeRecent(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    List<ProducerBatch> out = new ArrayList<>(bytes.length / ENTRY_BYTES);
    while (buf.remaining() >= ENTRY_BYTES) {
      out.add(new ProducerBatch(buf.getInt(), buf.getInt(), buf.getLong(), buf.getLong()));
    }
    return out;
  }
}
