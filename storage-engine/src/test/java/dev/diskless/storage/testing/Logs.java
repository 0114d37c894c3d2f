package dev.diskless.storage.testing;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.ReadResult;
import dev.diskless.storage.testing.TestBatches.Read;
import java.util.ArrayList;
import java.util.List;

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
}
