package dev.diskless.broker.handler;

import dev.diskless.broker.topicconfig.TopicAppendSettings;
import java.nio.ByteBuffer;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnsupportedCompressionTypeException;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.PrimitiveRef;
import org.apache.kafka.server.record.BrokerCompressionType;
import org.apache.kafka.storage.internals.log.AppendOrigin;
import org.apache.kafka.storage.internals.log.LogValidator;
import org.apache.kafka.storage.internals.log.RecordValidationException;

/**
 * Validates the records a client produced to one partition exactly as a Kafka broker does before
 * they reach the storage engine, which only checks batch headers and CRCs: one v2 batch per
 * partition ({@code ProduceRequest.validateRecords}), base offset 0, size, CRC and a known codec
 * ({@code UnifiedLog.analyzeAndValidateRecords}), then every record through Kafka's own {@link
 * LogValidator}: declared count against the records present, each record's lengths and varints
 * (decompressing compressed batches), timestamps, control and producer fields, and keys on a
 * compacted topic. A batch that passes is one a stock consumer can read. Failures are Kafka
 * exceptions that {@link ErrorCodes} maps.
 */
final class ProducedRecords {

  private static final LogValidator.MetricsRecorder NO_METRICS =
      new LogValidator.MetricsRecorder() {
        @Override
        public void recordInvalidMagic() {}

        @Override
        public void recordInvalidOffset() {}

        @Override
        public void recordInvalidSequence() {}

        @Override
        public void recordInvalidChecksums() {}

        @Override
        public void recordNoKeyCompactedTopic() {}
      };

  // Decompression buffers are reused per event-loop thread, as Kafka does per request thread.
  private static final ThreadLocal<BufferSupplier> BUFFERS =
      ThreadLocal.withInitial(BufferSupplier::create);

  private ProducedRecords() {}

  /**
   * Throws {@link InvalidRecordException} for a partition without records. Kafka itself has no
   * answer here (4.4 fails with a NullPointerException in ReplicaManager); this is the error its
   * {@code ProduceRequest.validateRecords} gives a partition with no batch.
   */
  static MemoryRecords present(short version, BaseRecords records) {
    if (records == null) {
      throw new InvalidRecordException(
          "Produce requests with version "
              + version
              + " must have at least one record batch per partition; the records are null");
    }
    return (MemoryRecords) records;
  }

  /**
   * Validates {@code records} for an append to {@code tp} under its topic's {@code settings} and
   * returns the bytes to append: the request's own buffer (offsets, leader epoch and max timestamp
   * stamped in place, as Kafka does) or the batch Kafka rebuilds — for a compressed batch whose
   * inner offsets are not 0..n-1, or when the topic's compression.type differs from the batch's
   * codec.
   */
  static ByteBuffer validate(
      short version,
      MemoryRecords records,
      TopicPartition tp,
      TopicAppendSettings settings,
      int leaderEpoch) {
    int maxBatchBytes = settings.maxBatchBytes();
    MutableRecordBatch batch;
    CompressionType compression;
    try {
      ProduceRequest.validateRecords(version, records);
      batch = records.batches().iterator().next();
      if (batch.baseOffset() != 0) {
        throw new InvalidRecordException(
            "The baseOffset of the record batch in the append to "
                + tp
                + " should be 0, but it is "
                + batch.baseOffset());
      }
      if (batch.sizeInBytes() > maxBatchBytes) {
        throw new RecordTooLargeException(
            "The record batch size in the append to "
                + tp
                + " is "
                + batch.sizeInBytes()
                + " bytes which exceeds the maximum configured value of "
                + maxBatchBytes
                + ".");
      }
      // CRC before anything reads the records: Kafka never decompresses corrupt bytes.
      batch.ensureValid();
      compression = batch.compressionType();
    } catch (IllegalArgumentException e) {
      // CompressionType.forId: Kafka lets this escape as UNKNOWN_SERVER_ERROR, which makes
      // clients reset idempotent state; the codec is what the client cannot use here.
      throw new UnsupportedCompressionTypeException(
          "The record batch in the append to " + tp + " uses an unknown codec: " + e.getMessage());
    }
    LogValidator validator =
        new LogValidator(
            records,
            tp,
            Time.SYSTEM,
            compression,
            // The topic's compression.type: the producer's codec for "producer" (validated in
            // place), else the batch is rebuilt with the topic's codec, as Kafka's broker does.
            BrokerCompressionType.targetCompression(settings.compression(), compression),
            // A compacted topic refuses records without a key (INVALID_RECORD naming them).
            settings.compacted(),
            RecordBatch.MAGIC_VALUE_V2,
            settings.timestampType(),
            settings.timestampBeforeMaxMs(),
            settings.timestampAfterMaxMs(),
            leaderEpoch,
            AppendOrigin.CLIENT,
            settings.maxRecordBytes());
    LogValidator.ValidationResult result;
    try {
      result =
          validator.validateMessagesAndAssignOffsets(
              PrimitiveRef.ofLong(0), NO_METRICS, BUFFERS.get());
    } catch (ApiException | RecordValidationException e) {
      throw e;
    } catch (RuntimeException e) {
      // A payload the codec or the record reader cannot make sense of: corrupt, not a server
      // fault.
      throw new CorruptRecordException(
          "The records of the batch in the append to " + tp + " cannot be read: " + e, e);
    }
    // As UnifiedLog.append: a batch rebuilt with another codec may have grown past the limit.
    if (result.messageSizeMaybeChanged()) {
      for (MutableRecordBatch rebuilt : result.validatedRecords().batches()) {
        if (rebuilt.sizeInBytes() > maxBatchBytes) {
          throw new RecordTooLargeException(
              "Message batch size is "
                  + rebuilt.sizeInBytes()
                  + " bytes in append to partition "
                  + tp
                  + " which exceeds the maximum configured size of "
                  + maxBatchBytes
                  + ".");
        }
      }
    }
    return result.validatedRecords().buffer();
  }
}
