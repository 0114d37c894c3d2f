package dev.diskless.broker.group;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.Topic;

/**
 * The internal topic the group coordinator keeps its state in ({@code __consumer_offsets}), stored
 * like any other topic by the storage engine. Its partition count is fixed when the first broker
 * creates it — groups are mapped to partitions by hash — so later brokers use the stored count
 * whatever they are configured with. It never expires data: retention is off.
 */
public record OffsetsTopic(TopicInfo topic) {

  public static final String NAME = Topic.GROUP_METADATA_TOPIC_NAME;

  /** Kept forever: the coordinator's state is rebuilt by replaying the whole log. */
  static final Map<String, String> CONFIGS = Map.of("retention.ms", "-1", "retention.bytes", "-1");

  /** Returns the topic, creating it with {@code partitions} partitions if no broker has yet. */
  public static CompletableFuture<OffsetsTopic> ensure(TopicStore topics, int partitions) {
    return topics
        .byName(NAME)
        .thenCompose(
            existing ->
                existing.isPresent()
                    ? CompletableFuture.completedFuture(existing.get())
                    : topics
                        .create(NAME, partitions, CONFIGS)
                        // Another broker created it first.
                        .exceptionallyCompose(
                            t ->
                                topics
                                    .byName(NAME)
                                    .thenApply(
                                        again ->
                                            again.orElseThrow(
                                                () ->
                                                    new IllegalStateException(
                                                        "cannot create " + NAME,
                                                        StorageException.unwrap(t))))))
        .thenApply(OffsetsTopic::new);
  }

  public int partitions() {
    return topic.partitionCount();
  }

  public TopicPartitionId partition(int index) {
    return new TopicPartitionId(topic.topicId(), index);
  }

  /** The Kafka name of one of this topic's partitions, if {@code tp} is one. */
  public Optional<TopicPartition> kafkaPartition(TopicPartitionId tp) {
    return tp.topicId().equals(topic.topicId())
        ? Optional.of(new TopicPartition(NAME, tp.partition()))
        : Optional.empty();
  }

  /** True for topics clients may not write, delete or resize. */
  public static boolean isInternal(String topicName) {
    return Topic.isInternal(topicName);
  }
}
