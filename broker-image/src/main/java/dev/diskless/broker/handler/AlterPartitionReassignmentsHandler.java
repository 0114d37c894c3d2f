package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignablePartition;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignableTopic;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AlterPartitionReassignmentsRequest;
import org.apache.kafka.common.requests.AlterPartitionReassignmentsResponse;

/**
 * Moves partition ownership, the diskless way: a partition has exactly one replica, its owner, so a
 * reassignment names one broker and becomes a move request that the current owner carries out as a
 * clean hand-over (flush, commit, one metadata update) — no data is copied. A null replica list
 * cancels a pending move. The response returns once the request is recorded, as Kafka's does;
 * ListPartitionReassignments shows it until it is done.
 */
final class AlterPartitionReassignmentsHandler {

  private final BrokerContext broker;

  AlterPartitionReassignmentsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AlterPartitionReassignmentsResponse> handle(
      AlterPartitionReassignmentsRequest request) {
    AlterPartitionReassignmentsResponseData data = new AlterPartitionReassignmentsResponseData();
    ClusterView.Snapshot snapshot = broker.view().current();
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (ReassignableTopic topic : request.data().topics()) {
      ReassignableTopicResponse t = new ReassignableTopicResponse().setName(topic.name());
      data.responses().add(t);
      for (ReassignablePartition p : topic.partitions()) {
        ReassignablePartitionResponse r =
            new ReassignablePartitionResponse().setPartitionIndex(p.partitionIndex());
        t.partitions().add(r);
        Optional<TopicPartitionId> tp =
            Partitions.resolve(broker.view(), topic.name(), p.partitionIndex());
        if (tp.isEmpty()) {
          r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
          continue;
        }
        all.add(apply(snapshot, tp.get(), p.replicas(), r));
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenCompose(v -> broker.view().refresh())
        .thenApply(v -> new AlterPartitionReassignmentsResponse(data));
  }

  private CompletableFuture<?> apply(
      ClusterView.Snapshot snapshot,
      TopicPartitionId tp,
      List<Integer> replicas,
      ReassignablePartitionResponse r) {
    if (replicas == null) {
      return broker
          .moves()
          .cancel(tp)
          .handle(
              (cancelled, t) -> {
                if (t != null) {
                  r.setErrorCode(ErrorCodes.of(t).code()).setErrorMessage(t.getMessage());
                } else if (!cancelled) {
                  r.setErrorCode(Errors.NO_REASSIGNMENT_IN_PROGRESS.code());
                }
                return null;
              });
    }
    if (replicas.size() != 1) {
      r.setErrorCode(Errors.INVALID_REPLICA_ASSIGNMENT.code())
          .setErrorMessage(
              "a partition has exactly one owner (data lives in object storage); its read"
                  + " replicas, one per other zone, follow from the brokers' zones and cannot be"
                  + " assigned: name one broker, got "
                  + replicas);
      return CompletableFuture.completedFuture(null);
    }
    int target = replicas.get(0);
    Optional<BrokerInfo> b = snapshot.broker(target);
    if (b.isEmpty() || !b.get().acceptsPartitions()) {
      r.setErrorCode(Errors.INVALID_REPLICA_ASSIGNMENT.code())
          .setErrorMessage(
              "broker "
                  + target
                  + (b.isEmpty()
                      ? " is not live"
                      : b.get().draining() ? " is shutting down" : " is still starting"));
      return CompletableFuture.completedFuture(null);
    }
    // Recorded as the partition's preferred owner, so that balancing keeps it there; moved (if not
    // there already) by its owner as a hand-over.
    OptionalInt owner = snapshot.liveOwner(tp);
    CompletableFuture<Void> recorded = broker.moves().request(tp, target, true);
    if (owner.isPresent() && owner.getAsInt() == target) {
      recorded = recorded.thenCompose(v -> broker.moves().done(tp, target));
    }
    return recorded.exceptionally(
        t -> {
          r.setErrorCode(ErrorCodes.of(t).code()).setErrorMessage(t.getMessage());
          return null;
        });
  }
}
