package dev.diskless.storage.log;

/**
 * Per-append settings that come from the topic's configuration, and who writes.
 *
 * @param maxBatchBytes the topic's max.message.bytes: a larger batch is refused
 * @param logAppendTime stamp the broker's time into every batch
 *     (message.timestamp.type=LogAppendTime)
 * @param fromCoordinator the writer is a coordinator of this broker (Kafka's {@code
 *     AppendOrigin.COORDINATOR}): its transactional batches carry no sequence numbers, so only
 *     producer epochs are checked, as Kafka checks only a client's sequences
 */
public record AppendOptions(int maxBatchBytes, boolean logAppendTime, boolean fromCoordinator) {

  public AppendOptions(int maxBatchBytes, boolean logAppendTime) {
    this(maxBatchBytes, logAppendTime, false);
  }

  /** Kafka's defaults: 1 MiB + overhead batches, CreateTime. */
  public static AppendOptions defaults() {
    return new AppendOptions(1048588, false);
  }

  /** A coordinator's writes: no size limit of a topic, no sequence checks. */
  public static AppendOptions coordinator() {
    return new AppendOptions(Integer.MAX_VALUE, false, true);
  }
}
