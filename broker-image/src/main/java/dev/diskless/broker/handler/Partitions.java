package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.Optional;
import org.apache.kafka.common.protocol.Errors;

/**
 * Resolves a topic name and partition index from a request to the storage engine's partition id.
 */
final class Partitions {

  private Partitions() {}

  /**
   * A partition named in a request, as this broker sees it: owned here, with its committed state,
   * or the error to answer for it (unknown, or owned by another broker).
   */
  record Owned(TopicPartitionId id, PartitionMetadata local, Errors error) {
    boolean served() {
      return error == Errors.NONE;
    }
  }

  static Owned owned(BrokerContext broker, String topic, int partition) {
    Optional<TopicPartitionId> tp = resolve(broker.view(), topic, partition);
    if (tp.isEmpty()) {
      return new Owned(null, null, Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }
    return broker
        .engine()
        .logs()
        .local(tp.get())
        .map(m -> new Owned(tp.get(), m, Errors.NONE))
        .orElseGet(() -> new Owned(tp.get(), null, Errors.NOT_LEADER_OR_FOLLOWER));
  }

  /**
   * Kafka's leader-epoch fencing of a request that names the epoch it believes current (-1: no
   * check): older is FENCED_LEADER_EPOCH, newer (this broker has not caught up)
   * UNKNOWN_LEADER_EPOCH.
   */
  static Errors checkLeaderEpoch(int requested, int current) {
    if (requested < 0 || requested == current) {
      return Errors.NONE;
    }
    return requested < current ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH;
  }

  static Optional<TopicPartitionId> resolve(ClusterView view, String topic, int partition) {
    Optional<TopicInfo> info = view.current().topic(topic);
    if (info.isEmpty() || partition < 0 || partition >= info.get().partitionCount()) {
      return Optional.empty();
    }
    return Optional.of(new TopicPartitionId(info.get().topicId(), partition));
  }
}
