package dev.diskless.broker.handler;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.Test;

/**
 * Runs of batches written into a Fetch response through Kafka's own serializer, a few bytes per
 * write as a busy socket takes them, parse back as the same batches, in order, as one records
 * field.
 */
class RunRecordsTest {

  @Test
  void severalRunsReachTheWireAsOneRecordsFieldEvenInSmallWrites() throws Exception {
    List<ByteBuffer> runs =
        List.of(batch(0, "a", "b", "c"), batch(3, "d"), batch(4, "e", "f"), batch(6, "g"));
    int size = runs.stream().mapToInt(ByteBuffer::remaining).sum();
    assertThat(RunRecords.of(runs, size).sizeInBytes()).isEqualTo(size);

    for (int perWrite : new int[] {1, 7, 100, 1 << 20}) {
      MemoryRecords got = roundTrip(RunRecords.of(runs, size), perWrite);
      List<Long> baseOffsets = new ArrayList<>();
      List<String> values = new ArrayList<>();
      for (RecordBatch b : got.batches()) {
        b.ensureValid();
        baseOffsets.add(b.baseOffset());
        b.forEach(
            r -> values.add(new String(org.apache.kafka.common.utils.Utils.toArray(r.value()))));
      }
      assertThat(baseOffsets).as("%d bytes per write", perWrite).containsExactly(0L, 3L, 4L, 6L);
      assertThat(values).containsExactly("a", "b", "c", "d", "e", "f", "g");
      assertThat(got.sizeInBytes()).isEqualTo(size);
    }
    // The runs are views of cached chunks: sending them leaves them as they were.
    assertThat(runs).allMatch(r -> r.position() == 0);
  }

  @Test
  void oneRunOrNoneIsPlainMemoryRecords() {
    assertThat(RunRecords.of(List.of(), 0)).isSameAs(MemoryRecords.EMPTY);
    assertThat(RunRecords.of(List.of(batch(0, "a")), batch(0, "a").remaining()))
        .isInstanceOf(MemoryRecords.class);
  }

  private static ByteBuffer batch(long baseOffset, String... values) {
    SimpleRecord[] records = new SimpleRecord[values.length];
    for (int i = 0; i < values.length; i++) {
      records[i] = new SimpleRecord(values[i].getBytes());
    }
    return MemoryRecords.withRecords(baseOffset, Compression.NONE, records).buffer();
  }

  private static MemoryRecords roundTrip(
      org.apache.kafka.common.record.internal.BaseRecords records, int perWrite) throws Exception {
    FetchResponseData data = new FetchResponseData();
    data.responses()
        .add(
            new FetchResponseData.FetchableTopicResponse()
                .setTopic("t")
                .setPartitions(
                    List.of(
                        new FetchResponseData.PartitionData()
                            .setPartitionIndex(0)
                            .setHighWatermark(7)
                            .setRecords(records))));
    short version = 12; // by topic name
    short headerVersion = ApiKeys.FETCH.responseHeaderVersion(version);
    Send send = FetchResponse.of(data).toSend(new ResponseHeader(9, headerVersion), version);
    SmallWrites channel = new SmallWrites(perWrite);
    while (!send.completed()) {
      send.writeTo(channel);
    }
    ByteBuffer wire = ByteBuffer.wrap(channel.bytes.toByteArray());
    assertThat(wire.getInt()).isEqualTo(wire.remaining());
    assertThat(ResponseHeader.parse(wire, headerVersion).correlationId()).isEqualTo(9);
    FetchResponse parsed =
        (FetchResponse)
            AbstractResponse.parseResponse(ApiKeys.FETCH, new ByteBufferAccessor(wire), version);
    return (MemoryRecords) parsed.data().responses().get(0).partitions().get(0).records();
  }

  /** A channel that takes at most {@code perWrite} bytes per call. */
  private static final class SmallWrites implements TransferableChannel {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final int perWrite;

    SmallWrites(int perWrite) {
      this.perWrite = perWrite;
    }

    @Override
    public int write(ByteBuffer src) {
      int n = Math.min(perWrite, src.remaining());
      byte[] part = new byte[n];
      src.get(part);
      bytes.write(part, 0, n);
      return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
      long written = 0;
      for (int i = offset; i < offset + length; i++) {
        if (!srcs[i].hasRemaining()) {
          continue;
        }
        int n = write(srcs[i]);
        written += n;
        if (srcs[i].hasRemaining()) {
          break;
        }
      }
      return written;
    }

    @Override
    public long write(ByteBuffer[] srcs) {
      return write(srcs, 0, srcs.length);
    }

    @Override
    public boolean hasPendingWrites() {
      return false;
    }

    @Override
    public long transferFrom(FileChannel fileChannel, long position, long count) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
