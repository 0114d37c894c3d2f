package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.ReadReplicas;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionMetadata;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.replica.ClientMetadata;
import org.apache.kafka.common.replica.PartitionView;
import org.apache.kafka.common.replica.RackAwareReplicaSelector;
import org.apache.kafka.common.replica.ReplicaSelector;
import org.apache.kafka.common.replica.ReplicaView;

/**
 * KIP-392 on the owner: the read replica a consumer should fetch a partition from instead, chosen
 * as Kafka's ReplicaManager does with {@code replica.selector.class=RackAwareReplicaSelector}.
 * Kafka's own selector picks among the partition's replicas (the owner and its read replicas) the
 * one in the client's rack, the leader when the leader is in that rack or no replica is; like
 * ReplicaManager, replicas whose log does not hold the fetch offset are not candidates, and the
 * leader is never named. Every read replica reads the committed log the owner commits, so each is
 * as caught up as the owner's high watermark.
 */
final class PreferredReadReplica {

  private final ReplicaSelector selector = new RackAwareReplicaSelector();

  /**
   * The read replica to name in the owner's answer, if the selector chose one other than {@code
   * owner}.
   */
  OptionalInt select(
      ClusterView.Snapshot snapshot,
      ReadReplicas replicas,
      TopicPartition topicPartition,
      TopicPartitionId tp,
      int owner,
      PartitionMetadata committed,
      long fetchOffset,
      ClientMetadata client) {
    List<Integer> ids = replicas.of(tp, owner);
    if (ids.size() == 1) {
      return OptionalInt.empty();
    }
    long hw = committed.highWatermark();
    String listener = client.listenerName();
    ReplicaView leader = new ReplicaView.DefaultReplicaView(node(snapshot, owner, listener), hw, 0);
    Set<ReplicaView> candidates = new HashSet<>();
    candidates.add(leader);
    if (committed.logStartOffset() <= fetchOffset && fetchOffset <= hw) {
      for (int id : ids.subList(1, ids.size())) {
        candidates.add(new ReplicaView.DefaultReplicaView(node(snapshot, id, listener), hw, 0));
      }
    }
    return selector
        .select(topicPartition, client, new PartitionView.DefaultPartitionView(candidates, leader))
        .filter(v -> !v.endpoint().isEmpty() && !v.equals(leader))
        .map(v -> OptionalInt.of(v.endpoint().id()))
        .orElse(OptionalInt.empty());
  }

  /** The replica's node on the client's listener; none (never chosen) if it lacks that listener. */
  private static Node node(ClusterView.Snapshot snapshot, int id, String listener) {
    return snapshot
        .broker(id)
        .flatMap(
            b ->
                b.endpoint(listener)
                    .map(e -> new Node(b.nodeId(), e.host(), e.port(), b.rack().orElse(null))))
        .orElse(Node.noNode());
  }
}
