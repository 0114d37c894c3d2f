package dev.diskless.storage.batch;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Reads the transaction marker a control batch holds (Kafka's {@code EndTransactionMarker}): the
 * record's key is (version int16, type int16), type 0 ABORT and 1 COMMIT; its value is (version
 * int16, coordinator epoch int32). Control batches are never compressed, so the one record can be
 * read in place.
 */
public final class ControlRecords {

  /** A COMMIT or ABORT marker and the epoch of the coordinator that wrote it. */
  public record Marker(boolean commit, int coordinatorEpoch) {}

  private static final short ABORT = 0;
  private static final short COMMIT = 1;

  private ControlRecords() {}

  /**
   * The transaction marker in the control batch {@code h} of {@code buffer}; empty for other
   * control records (e.g. KRaft's leader change). Throws {@link Kind#CORRUPT_BATCH} if it cannot be
   * read.
   */
  public static Optional<Marker> marker(ByteBuffer buffer, RecordBatchHeader h) {
    ByteBuffer b = buffer.duplicate();
    b.limit(h.position() + h.sizeInBytes()).position(h.position() + RecordBatchHeader.HEADER_SIZE);
    try {
      readVarint(b); // record length
      b.get(); // attributes
      readVarlong(b); // timestamp delta
      readVarint(b); // offset delta
      int keyLength = readVarint(b);
      if (keyLength < 4) {
        throw corrupt(h, "control record key of " + keyLength + " bytes");
      }
      int keyStart = b.position();
      b.getShort(); // key version
      short type = b.getShort();
      if (type != ABORT && type != COMMIT) {
        return Optional.empty();
      }
      b.position(keyStart + keyLength);
      int valueLength = readVarint(b);
      if (valueLength < 6) {
        throw corrupt(h, "transaction marker value of " + valueLength + " bytes");
      }
      b.getShort(); // value version
      return Optional.of(new Marker(type == COMMIT, b.getInt()));
    } catch (RuntimeException e) {
      if (e instanceof StorageException se) {
        throw se;
      }
      throw corrupt(h, e.toString());
    }
  }

  private static StorageException corrupt(RecordBatchHeader h, String what) {
    return new StorageException(
        Kind.CORRUPT_BATCH, "control batch at offset " + h.baseOffset() + ": unreadable " + what);
  }

  private static int readVarint(ByteBuffer b) {
    int raw = 0;
    for (int shift = 0; ; shift += 7) {
      if (shift > 28) {
        throw new IllegalArgumentException("varint too long");
      }
      byte x = b.get();
      raw |= (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        break;
      }
    }
    return (raw >>> 1) ^ -(raw & 1);
  }

  private static long readVarlong(ByteBuffer b) {
    long raw = 0;
    for (int shift = 0; ; shift += 7) {
      if (shift > 63) {
        throw new IllegalArgumentException("varlong too long");
      }
      byte x = b.get();
      raw |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        break;
      }
    }
    return (raw >>> 1) ^ -(raw & 1);
  }
}
