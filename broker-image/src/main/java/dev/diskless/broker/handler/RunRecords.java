package dev.diskless.broker.handler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

/**
 * A partition's fetched batches as the runs the storage engine found them in (views of cached
 * chunks), written into the response one after another: Kafka's response serializer sends records
 * that are not {@link MemoryRecords} through their own {@link #toSend()}, so several runs reach the
 * connection without first being joined into one buffer. The bytes on the wire are the same.
 */
final class RunRecords implements BaseRecords {

  private final List<ByteBuffer> runs;
  private final int size;

  private RunRecords(List<ByteBuffer> runs, int size) {
    this.runs = runs;
    this.size = size;
  }

  /**
   * The records of {@code runs}, {@code size} bytes in all (as the read counted them): one run as
   * {@link MemoryRecords}, several as runs.
   */
  static BaseRecords of(List<ByteBuffer> runs, int size) {
    if (runs.isEmpty()) {
      return MemoryRecords.EMPTY;
    }
    if (runs.size() == 1) {
      return MemoryRecords.readableRecords(runs.getFirst().duplicate());
    }
    return new RunRecords(List.copyOf(runs), size);
  }

  @Override
  public int sizeInBytes() {
    return size;
  }

  @Override
  public RecordsSend<RunRecords> toSend() {
    return new Send(this);
  }

  /** Writes the runs from where the previous call stopped. */
  private static final class Send extends RecordsSend<RunRecords> {

    Send(RunRecords records) {
      super(records, records.size);
    }

    @Override
    protected int writeTo(TransferableChannel channel, int previouslyWritten, int remaining)
        throws IOException {
      int skip = previouslyWritten;
      int written = 0;
      for (ByteBuffer run : records().runs) {
        int length = run.remaining();
        if (skip >= length) {
          skip -= length;
          continue;
        }
        ByteBuffer part = run.duplicate();
        part.position(part.position() + skip);
        skip = 0;
        if (part.remaining() > remaining - written) {
          part.limit(part.position() + remaining - written);
        }
        int n = part.remaining();
        int done = channel.write(part);
        written += done;
        if (done < n || written == remaining) {
          break;
        }
      }
      return written;
    }
  }
}
