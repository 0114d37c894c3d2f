package dev.diskless.broker.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.topicconfig.TopicAppendSettings;
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
    return validate(batch, Map.of("max.message.bytes", String.valueOf(1 << 20)));
  }

  private static ByteBuffer validate(ByteBuffer batch, Map<String, String> topicConfigs) {
    return ProducedRecords.validate(
        (short) 9,
        MemoryRecords.readableRecords(batch),
        TP,
        TopicAppendSettings.of(topicConfigs),
        4);
  }

  private static RecordBatch onlyBatch(ByteBuffer validated) {
    List<RecordBatch> batches = new java.util.ArrayList<>();
    MemoryRecords.readableRecords(validated).batches().forEach(batches::add);
    assertThat(batches).hasSize(1);
    batches.get(0).ensureValid();
    return batches.get(0);
  }

  @Test
  void aTopicCodecRecompressesEveryOtherCodecAsKafkaDoes() {
    for (String target : List.of("gzip", "snappy", "lz4", "zstd", "uncompressed")) {
      for (Compression codec : CODECS) {
        ByteBuffer batch = batch(codec, System.currentTimeMillis(), "a", "b", "c");
        RecordBatch stored = onlyBatch(validate(batch, Map.of("compression.type", target)));
        assertThat(stored.compressionType().name)
            .as(codec.type().name)
            .isEqualTo(target.equals("uncompressed") ? "none" : target);
        List<String> values = new java.util.ArrayList<>();
        stored.forEach(r -> values.add(StandardCharsets.UTF_8.decode(r.value()).toString()));
        assertThat(values).containsExactly("a", "b", "c");
        assertThat(stored.lastOffset()).isEqualTo(2);
      }
    }
  }

  @Test
  void compressionTypeProducerKeepsTheProducersCodec() {
    for (Compression codec : CODECS) {
      ByteBuffer batch = batch(codec, System.currentTimeMillis(), "a");
      assertThat(
              onlyBatch(validate(batch, Map.of("compression.type", "producer"))).compressionType())
          .isEqualTo(codec.type());
    }
  }

  @Test
  void timestampBoundsOfTheTopicApply() {
    long now = System.currentTimeMillis();
    Map<String, String> tight =
        Map.of("message.timestamp.before.max.ms", "60000", "message.timestamp.after.max.ms", "0");
    assertThatThrownBy(() -> validate(batch(Compression.NONE, now - 3_600_000, "old"), tight))
        .satisfies(e -> assertThat(ErrorCodes.of(e)).isEqualTo(Errors.INVALID_TIMESTAMP));
    assertThatThrownBy(() -> validate(batch(Compression.NONE, now + 60_000, "future"), tight))
        .satisfies(e -> assertThat(ErrorCodes.of(e)).isEqualTo(Errors.INVALID_TIMESTAMP));
    // Kafka's defaults: any past timestamp is fine.
    validate(batch(Compression.NONE, now - 3_600_000, "old"));
  }

  @Test
  void aRecordLargerThanMaxDecompressedMessageBytesIsRefused() {
    ByteBuffer batch =
        batch(Compression.gzip().build(), System.currentTimeMillis(), "x".repeat(5000));
    assertThatThrownBy(() -> validate(batch, Map.of("max.decompressed.message.bytes", "1000")))
        .satisfies(e -> assertThat(ErrorCodes.of(e)).isEqualTo(Errors.INVALID_RECORD));
    validate(batch, Map.of("max.decompressed.message.bytes", "100000"));
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
