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
 * @param keepsBuffer the log may keep the writer's buffer: it stamps offsets into it and keeps it
 *     until it is flushed, instead of copying it first (a produce request's own buffer; not a
 *     buffer its writer reuses, as Kafka's coordinator runtime does)
 */
public record AppendOptions(
    int maxBatchBytes, boolean logAppendTime, boolean fromCoordinator, boolean keepsBuffer) {

  public AppendOptions(int maxBatchBytes, boolean logAppendTime) {
    this(maxBatchBytes, logAppendTime, false, false);
  }

  /** The same, with the writer's buffer given to the log. */
  public AppendOptions keepingBuffer() {
    return new AppendOptions(maxBatchBytes, logAppendTime, fromCoordinator, true);
  }

  /** Kafka's defaults: 1 MiB + overhead batches, CreateTime. */
  public static AppendOptions defaults() {
    return new AppendOptions(1048588, false);
  }

  /** A coordinator's writes: no size limit of a topic, no sequence checks. */
  public static AppendOptions coordinator() {
    return new AppendOptions(Integer.MAX_VALUE, false, true, false);
  }
}
