package dev.diskless.storage.testing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Real Kafka record batches, built and read with Kafka's own record classes. */
public final class TestBatches {

  private TestBatches() {}

  public static ByteBuffer values(String... values) {
    return values(System.currentTimeMillis(), values);
  }

  public static ByteBuffer values(long timestamp, String... values) {
    SimpleRecord[] records = new SimpleRecord[values.length];
    for (int i = 0; i < values.length; i++) {
      records[i] = new SimpleRecord(timestamp, values[i].getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withRecords(Compression.NONE, records).buffer();
  }

  public static ByteBuffer compressed(Compression compression, String... values) {
    SimpleRecord[] records = new SimpleRecord[values.length];
    for (int i = 0; i < values.length; i++) {
      records[i] =
          new SimpleRecord(System.currentTimeMillis(), values[i].getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withRecords(compression, records).buffer();
  }

  public static ByteBuffer idempotent(
      long producerId, short epoch, int baseSequence, String... values) {
    SimpleRecord[] records = new SimpleRecord[values.length];
    for (int i = 0; i < values.length; i++) {
      records[i] =
          new SimpleRecord(System.currentTimeMillis(), values[i].getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withIdempotentRecords(
            Compression.NONE, producerId, epoch, baseSequence, records)
        .buffer();
  }

  /** Records of a transactional producer's transaction (keyed by their value). */
  public static ByteBuffer transactional(
      long producerId, short epoch, int baseSequence, String... values) {
    SimpleRecord[] records = new SimpleRecord[values.length];
    for (int i = 0; i < values.length; i++) {
      byte[] v = values[i].getBytes(StandardCharsets.UTF_8);
      records[i] = new SimpleRecord(System.currentTimeMillis(), v, v);
    }
    return MemoryRecords.withTransactionalRecords(
            Compression.NONE, producerId, epoch, baseSequence, records)
        .buffer();
  }

  /** A COMMIT or ABORT marker, as a transaction coordinator has a partition's owner write it. */
  public static ByteBuffer marker(
      long producerId, short epoch, int coordinatorEpoch, boolean commit) {
    return MemoryRecords.withEndTransactionMarker(
            producerId,
            epoch,
            new EndTransactionMarker(
                commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, coordinatorEpoch))
        .buffer();
  }

  /** A batch of {@code count} records of {@code recordSize} bytes each. */
  public static ByteBuffer sized(int count, int recordSize, String tag) {
    SimpleRecord[] records = new SimpleRecord[count];
    for (int i = 0; i < count; i++) {
      byte[] value = new byte[recordSize];
      byte[] id = (tag + "-" + i).getBytes(StandardCharsets.UTF_8);
      System.arraycopy(id, 0, value, 0, Math.min(id.length, recordSize));
      records[i] = new SimpleRecord(System.currentTimeMillis(), value);
    }
    return MemoryRecords.withRecords(Compression.NONE, records).buffer();
  }

  /** A record read back: its offset, its value and the batch's leader epoch. */
  public record Read(long offset, String value, long timestamp, int leaderEpoch) {}

  /** Parses record-batch bytes with Kafka's classes, checking every batch's CRC. */
  public static List<Read> read(ByteBuffer bytes) {
    List<Read> out = new ArrayList<>();
    for (RecordBatch batch : MemoryRecords.readableRecords(bytes.duplicate()).batches()) {
      batch.ensureValid();
      for (Record r : batch) {
        ByteBuffer v = r.value();
        byte[] b = new byte[v.remaining()];
        v.get(b);
        out.add(
            new Read(
                r.offset(),
                new String(b, StandardCharsets.UTF_8).trim(),
                r.timestamp(),
                batch.partitionLeaderEpoch()));
      }
    }
    return out;
  }
}
