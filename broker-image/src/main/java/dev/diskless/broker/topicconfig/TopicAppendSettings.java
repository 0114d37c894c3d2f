package dev.diskless.broker.topicconfig;

import dev.diskless.storage.log.AppendOptions;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.storage.internals.log.LogConfig;

/**
 * What a topic's configs mean for an append, parsed by Kafka's {@link LogConfig} so values mean
 * exactly what they mean in Kafka: {@code max.message.bytes}, {@code message.timestamp.type}, the
 * {@code message.timestamp.before/after.max.ms} bounds, {@code max.decompressed.message.bytes} and
 * the broker-side codec from {@code compression.type} with its {@code compression.*.level} (empty
 * for {@code producer}: batches keep the producer's codec), and whether the topic is compacted.
 *
 * @param maxBatchBytes the largest batch accepted
 * @param timestampType CreateTime, or LogAppendTime stamped by the broker
 * @param timestampBeforeMaxMs how far a CreateTime timestamp may lie in the past
 * @param timestampAfterMaxMs how far a CreateTime timestamp may lie in the future
 * @param maxRecordBytes the largest decompressed record accepted
 * @param compression the codec every batch is stored with, or empty to keep the producer's
 * @param compacted whether {@code cleanup.policy} includes {@code compact}: every record needs a
 *     key
 */
public record TopicAppendSettings(
    int maxBatchBytes,
    TimestampType timestampType,
    long timestampBeforeMaxMs,
    long timestampAfterMaxMs,
    int maxRecordBytes,
    Optional<Compression> compression,
    boolean compacted) {

  /** The settings of a topic with {@code configs} set (stored configs were validated). */
  public static TopicAppendSettings of(Map<String, String> configs) {
    LogConfig config = new LogConfig(configs);
    return new TopicAppendSettings(
        config.maxMessageSize(),
        config.messageTimestampType,
        config.messageTimestampBeforeMaxMs,
        config.messageTimestampAfterMaxMs,
        config.maxDecompressedMessageBytes(),
        config.compression,
        config.compact);
  }

  /** What the storage engine needs of them. */
  public AppendOptions appendOptions() {
    return new AppendOptions(maxBatchBytes, timestampType == TimestampType.LOG_APPEND_TIME);
  }
}
