package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.Optional;

/**
 * Resolves a topic name and partition index from a request to the storage engine's partition id.
 */
final class Partitions {

  private Partitions() {}

  static Optional<TopicPartitionId> resolve(ClusterView view, String topic, int partition) {
    Optional<TopicInfo> info = view.current().topic(topic);
    if (info.isEmpty() || partition < 0 || partition >= info.get().partitionCount()) {
      return Optional.empty();
    }
    return Optional.of(new TopicPartitionId(info.get().topicId(), partition));
  }
}
