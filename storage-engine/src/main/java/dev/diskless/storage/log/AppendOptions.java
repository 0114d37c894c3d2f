package dev.diskless.storage.log;

/**
 * Per-append settings that come from the topic's configuration.
 *
 * @param maxBatchBytes the topic's max.message.bytes: a larger batch is refused
 * @param logAppendTime stamp the broker's time into every batch
 *     (message.timestamp.type=LogAppendTime)
 */
public record AppendOptions(int maxBatchBytes, boolean logAppendTime) {
  /** Kafka's defaults: 1 MiB + overhead batches, CreateTime. */
  public static AppendOptions defaults() {
    return new AppendOptions(1048588, false);
  }
}
