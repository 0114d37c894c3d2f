package dev.diskless.storage.testing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.CRC32C;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Record batches (magic 2) whose header and CRC-32C are right but whose contents no consumer can
 * read or a client may not write: what a broker must refuse rather than store. Each method returns
 * a fresh buffer holding one batch.
 */
public final class PoisonBatches {

  /** Byte offsets inside a v2 batch header. */
  public static final int ATTRIBUTES = 21;

  public static final int LAST_OFFSET_DELTA = 23;
  public static final int RECORDS_COUNT = 57;
  public static final int HEADER = 61;

  private PoisonBatches() {}

  /** A well-formed batch of one record holding {@code value}. */
  public static ByteBuffer plain(String value) {
    return MemoryRecords.withRecords(
            Compression.NONE, new SimpleRecord(value.getBytes(StandardCharsets.UTF_8)))
        .buffer();
  }

  /** A well-formed batch of one record from idempotent producer 4242, epoch 0, sequence 0. */
  public static ByteBuffer idempotent(String value) {
    return MemoryRecords.withIdempotentRecords(
            Compression.NONE,
            4242L,
            (short) 0,
            0,
            new SimpleRecord(value.getBytes(StandardCharsets.UTF_8)))
        .buffer();
  }

  /** One record declared, 40 random bytes where it should be. */
  public static ByteBuffer randomRecords(String value, Random random) {
    byte[] junk = new byte[40];
    random.nextBytes(junk);
    return withRecordsSection(plain(value), junk);
  }

  /** The header says three records; one is inside. */
  public static ByteBuffer lyingCount(String value) {
    ByteBuffer b = plain(value);
    b.putInt(RECORDS_COUNT, 3).putInt(LAST_OFFSET_DELTA, 2);
    return withCrc(b);
  }

  /** Compression codec 7, which does not exist. */
  public static ByteBuffer codec7(String value) {
    return withAttributes(plain(value), 7);
  }

  /**
   * {@code batch} with {@code flags} or-ed into its attributes (0x10 transactional, 0x20 control).
   */
  public static ByteBuffer withAttributes(ByteBuffer batch, int flags) {
    batch.putShort(ATTRIBUTES, (short) (batch.getShort(ATTRIBUTES) | flags));
    return withCrc(batch);
  }

  /** The same header (one record declared) over {@code records} in place of the real records. */
  public static ByteBuffer withRecordsSection(ByteBuffer batch, byte[] records) {
    ByteBuffer out = ByteBuffer.allocate(HEADER + records.length);
    out.put(batch.duplicate().limit(HEADER)).put(records).flip();
    out.putInt(8, HEADER - 12 + records.length);
    return withCrc(out);
  }

  /** Recomputes the CRC-32C over attributes..end, so only the contents are wrong. */
  public static ByteBuffer withCrc(ByteBuffer batch) {
    CRC32C crc = new CRC32C();
    crc.update(batch.duplicate().position(ATTRIBUTES));
    batch.putInt(17, (int) crc.getValue());
    return batch;
  }
}
