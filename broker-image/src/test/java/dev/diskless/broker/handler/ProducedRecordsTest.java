package dev.diskless.broker.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.storage.internals.log.RecordValidationException;
import org.junit.jupiter.api.Test;

class ProducedRecordsTest {

  private static final TopicPartition TP = new TopicPartition("t", 0);
  private static final List<Compression> CODECS =
      List.of(
          Compression.NONE,
          Compression.gzip().build(),
          Compression.snappy().build(),
          Compression.lz4().build(),
          Compression.zstd().build());

  @Test
  void validBatchesOfEveryCodecAreValidatedInPlace() {
    for (Compression codec : CODECS) {
      ByteBuffer batch = batch(codec, System.currentTimeMillis(), "a", "b", "c");
      ByteBuffer validated = validate(batch);
      assertThat(validated.array()).as(codec.type().name).isSameAs(batch.array());
      List<String> values = new java.util.ArrayList<>();
      for (RecordBatch b : MemoryRecords.readableRecords(validated).batches()) {
        b.ensureValid();
        assertThat(b.partitionLeaderEpoch()).isEqualTo(4);
        for (Record r : b) {
          values.add(StandardCharsets.UTF_8.decode(r.value()).toString());
        }
      }
      assertThat(values).as(codec.type().name).containsExactly("a", "b", "c");
    }
  }

  @Test
  void randomRecordBytesUnderAValidCrcAreRefusedForEveryCodec() {
    for (Compression codec : CODECS) {
      ByteBuffer batch = batch(codec, System.currentTimeMillis(), "x");
      byte[] random = new byte[40];
      new Random(7).nextBytes(random);
      ByteBuffer garbage = ByteBuffer.allocate(61 + random.length);
      garbage.put(batch.duplicate().limit(61)).put(random).flip();
      garbage.putInt(8, 61 - 12 + random.length);
      // Uncompressed records fail Kafka's record reader; compressed ones fail in the codec first.
      Errors expected = codec.type().id == 0 ? Errors.INVALID_RECORD : Errors.CORRUPT_MESSAGE;
      assertThat(errorOf(withCrc(garbage))).as(codec.type().name).isEqualTo(expected);
    }
  }

  @Test
  void fewerRecordsThanDeclaredAreRefusedForEveryCodec() {
    for (Compression codec : CODECS) {
      ByteBuffer batch = batch(codec, System.currentTimeMillis(), "only-one");
      batch.putInt(57, 3).putInt(23, 2);
      assertThat(errorOf(withCrc(batch))).as(codec.type().name).isEqualTo(Errors.INVALID_RECORD);
    }
  }

  @Test
  void aTimestampTooFarAheadIsRefusedWithItsRecordIndex() {
    ByteBuffer batch = batch(Compression.NONE, System.currentTimeMillis() + 2 * 3_600_000L, "late");
    assertThatThrownBy(() -> validate(batch))
        .isInstanceOfSatisfying(
            RecordValidationException.class,
            e -> {
              assertThat(ErrorCodes.of(e)).isEqualTo(Errors.INVALID_TIMESTAMP);
              assertThat(e.recordErrors())
                  .singleElement()
                  .satisfies(r -> assertThat(r.batchIndex).isZero());
            });
  }

  @Test
  void nullRecordsAreAnInvalidRecord() {
    assertThatThrownBy(() -> ProducedRecords.present((short) 9, null))
        .satisfies(e -> assertThat(ErrorCodes.of(e)).isEqualTo(Errors.INVALID_RECORD));
  }

  private static Errors errorOf(ByteBuffer batch) {
    try {
      validate(batch);
    } catch (RuntimeException e) {
      return ErrorCodes.of(e);
    }
    return Errors.NONE;
  }

  private static ByteBuffer validate(ByteBuffer batch) {
    return ProducedRecords.validate(
        (short) 9, MemoryRecords.readableRecords(batch), TP, Map.of(), 4, 1 << 20);
  }

  private static ByteBuffer batch(Compression codec, long timestamp, String... values) {
    SimpleRecord[] records = new SimpleRecord[values.length];
    for (int i = 0; i < values.length; i++) {
      records[i] = new SimpleRecord(timestamp, values[i].getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withRecords(codec, records).buffer();
  }

  private static ByteBuffer withCrc(ByteBuffer batch) {
    CRC32C crc = new CRC32C();
    crc.update(batch.duplicate().position(21));
    batch.putInt(17, (int) crc.getValue());
    return batch;
  }
}
