package dev.diskless.broker.group;

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
 * whatever they are configured with. Like Kafka's, it is compacted ({@code cleanup.policy=compact},
 * 100 MiB segments as Kafka's {@code offsets.topic.segment.bytes}): the coordinator's state is the
 * latest record of each key, so compaction bounds a coordinator's load time by live groups and
 * offsets rather than by every commit ever made, and nothing is deleted by age.
 */
public record OffsetsTopic(TopicInfo topic) {

  public static final String NAME = Topic.GROUP_METADATA_TOPIC_NAME;

  /** Kafka's configs for it: compacted, never deleted by age or size. */
  static final Map<String, String> CONFIGS =
      Map.of(
          "cleanup.policy", "compact",
          "segment.bytes", "104857600",
          "compression.type", "producer");

  /** Returns the topic, creating it with {@code partitions} partitions if no broker has yet. */
  public static CompletableFuture<OffsetsTopic> ensure(TopicStore topics, int partitions) {
    return topics
        .createIfAbsent(NAME, partitions, CONFIGS)
        .thenCompose(topic -> compacted(topics, topic))
        .thenApply(OffsetsTopic::new);
  }

  /**
   * An offsets topic created before it was compacted (retention off, no cleanup.policy) gets
   * Kafka's configs once; one that an operator configured keeps its configs.
   */
  private static CompletableFuture<TopicInfo> compacted(TopicStore topics, TopicInfo topic) {
    if (topic.configs().containsKey("cleanup.policy")) {
      return CompletableFuture.completedFuture(topic);
    }
    return topics
        .updateConfigs(
            topic.topicId(),
            current -> {
              if (current.containsKey("cleanup.policy")) {
                return current;
              }
              Map<String, String> next = new java.util.HashMap<>(current);
              next.remove("retention.ms");
              next.remove("retention.bytes");
              CONFIGS.forEach(next::putIfAbsent);
              return next;
            })
        .thenApply(
            configs ->
                new TopicInfo(topic.topicId(), topic.name(), topic.partitionCount(), configs));
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
