package dev.diskless.storage.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.testing.TestBatches;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;

class RecordBatchesTest {

  @Test
  void readsTheHeaderKafkaWrote() {
    ByteBuffer buf = TestBatches.idempotent(42L, (short) 3, 7, "a", "b", "c");
    List<RecordBatchHeader> headers = RecordBatches.validate(buf, 1 << 20);
    assertThat(headers).hasSize(1);
    RecordBatchHeader h = headers.get(0);
    assertThat(h.recordCount()).isEqualTo(3);
    assertThat(h.lastOffsetDelta()).isEqualTo(2);
    assertThat(h.producerId()).isEqualTo(42L);
    assertThat(h.producerEpoch()).isEqualTo((short) 3);
    assertThat(h.baseSequence()).isEqualTo(7);
    assertThat(h.lastSequence()).isEqualTo(9);
    assertThat(h.sizeInBytes()).isEqualTo(buf.remaining());
  }

  @Test
  void validatesSeveralBatchesInOneBuffer() {
    ByteBuffer a = TestBatches.values("x");
    ByteBuffer b = TestBatches.compressed(Compression.zstd().build(), "y", "z");
    ByteBuffer both = ByteBuffer.allocate(a.remaining() + b.remaining()).put(a).put(b).flip();
    assertThat(RecordBatches.validate(both, 1 << 20))
        .extracting(RecordBatchHeader::recordCount)
        .containsExactly(1, 2);
  }

  @Test
  void rejectsAFlippedPayloadByteAsCorrupt() {
    ByteBuffer buf = TestBatches.values("hello world");
    buf.put(buf.limit() - 3, (byte) (buf.get(buf.limit() - 3) ^ 0x55));
    assertThatThrownBy(() -> RecordBatches.validate(buf, 1 << 20))
        .isInstanceOfSatisfying(
            StorageException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CORRUPT_BATCH))
        .hasMessageContaining("CRC");
  }

  @Test
  void rejectsTruncatedAndEmptyInput() {
    ByteBuffer buf = TestBatches.values("hello");
    ByteBuffer truncated = buf.duplicate().limit(buf.limit() - 1);
    assertThatThrownBy(() -> RecordBatches.validate(truncated, 1 << 20))
        .isInstanceOfSatisfying(
            StorageException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CORRUPT_BATCH));
    assertThatThrownBy(() -> RecordBatches.validate(ByteBuffer.allocate(0), 1 << 20))
        .isInstanceOfSatisfying(
            StorageException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CORRUPT_BATCH));
    assertThatThrownBy(() -> RecordBatches.validate(ByteBuffer.allocate(30), 1 << 20))
        .isInstanceOfSatisfying(
            StorageException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CORRUPT_BATCH));
  }

  @Test
  void rejectsOldMagic() {
    ByteBuffer buf =
        MemoryRecords.withRecords(
                RecordBatch.MAGIC_VALUE_V1,
                Compression.NONE,
                new org.apache.kafka.common.record.internal.SimpleRecord("v".getBytes()))
            .buffer();
    assertThatThrownBy(() -> RecordBatches.validate(buf, 1 << 20))
        .isInstanceOfSatisfying(
            StorageException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CORRUPT_BATCH));
  }

  @Test
  void rejectsABatchOverTheSizeLimit() {
    ByteBuffer buf = TestBatches.sized(10, 1000, "big");
    assertThatThrownBy(() -> RecordBatches.validate(buf, 5000))
        .isInstanceOfSatisfying(
            StorageException.class, e -> assertThat(e.kind()).isEqualTo(Kind.BATCH_TOO_LARGE))
        .hasMessageContaining("exceeds the limit of 5000");
  }

  @Test
  void stampingOffsetEpochAndAppendTimeKeepsTheBatchValidForKafka() {
    ByteBuffer buf = TestBatches.compressed(Compression.lz4().build(), "a", "b");
    RecordBatchHeader h = RecordBatches.validate(buf, 1 << 20).get(0);
    RecordBatches.stampOffsetAndEpoch(buf, h.position(), 1000L, 7);
    RecordBatches.stampLogAppendTime(buf, h.position(), h.sizeInBytes(), 123456789L);
    RecordBatch batch = MemoryRecords.readableRecords(buf.duplicate()).batches().iterator().next();
    batch.ensureValid();
    assertThat(batch.baseOffset()).isEqualTo(1000L);
    assertThat(batch.lastOffset()).isEqualTo(1001L);
    assertThat(batch.partitionLeaderEpoch()).isEqualTo(7);
    assertThat(batch.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
    assertThat(TestBatches.read(buf))
        .extracting(TestBatches.Read::timestamp)
        .containsOnly(123456789L);
    assertThat(RecordBatches.validate(buf, 1 << 20)).hasSize(1);
  }
}
