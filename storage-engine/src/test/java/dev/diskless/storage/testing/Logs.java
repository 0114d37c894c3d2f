package dev.diskless.storage.testing;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.ReadResult;
import dev.diskless.storage.testing.TestBatches.Read;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/** Reading whole partitions back, as a consumer would, for assertions. */
public final class Logs {

  private Logs() {}

  /** Every record from the log start offset to the high watermark, read 64 KiB at a time. */
  public static List<Read> readAll(StorageEngine engine, TopicPartitionId tp) {
    List<Read> out = new ArrayList<>();
    long offset = engine.reader().bounds(tp).join().logStartOffset();
    while (true) {
      ReadResult r = engine.reader().read(tp, offset, 64 * 1024).join();
      if (r.isEmpty()) {
        return out;
      }
      for (Read read : TestBatches.read(r.records())) {
        if (read.offset() >= offset) {
          out.add(read);
        }
      }
      offset = out.get(out.size() - 1).offset() + 1;
    }
  }

  /** A record of a keyed log: a null value is a tombstone. */
  public record Keyed(long offset, String key, String value) {}

  /**
   * Every record from the log start offset to the high watermark with its key, read 64 KiB at a
   * time; offsets may have gaps (a compacted log), and a batch may have no records left.
   */
  public static List<Keyed> readKeyed(StorageEngine engine, TopicPartitionId tp) {
    List<Keyed> out = new ArrayList<>();
    long offset = engine.reader().bounds(tp).join().logStartOffset();
    while (true) {
      ReadResult r = engine.reader().read(tp, offset, 64 * 1024).join();
      if (r.isEmpty()) {
        return out;
      }
      long next = offset;
      for (RecordBatch batch : MemoryRecords.readableRecords(r.records().duplicate()).batches()) {
        batch.ensureValid();
        for (Record rec : batch) {
          if (rec.offset() >= offset) {
            out.add(new Keyed(rec.offset(), string(rec.key()), string(rec.value())));
          }
        }
        next = Math.max(next, batch.lastOffset() + 1);
      }
      offset = next;
    }
  }

  private static String string(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
