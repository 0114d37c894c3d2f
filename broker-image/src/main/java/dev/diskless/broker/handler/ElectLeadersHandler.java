package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ElectLeadersRequestData.TopicPartitions;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ElectLeadersRequest;
import org.apache.kafka.common.requests.ElectLeadersResponse;

/**
 * Leader election: the owner is always the first — hence the preferred — replica (read replicas
 * follow it, see MetadataHandler), so a partition with a live owner answers ELECTION_NOT_NEEDED;
 * one without a live owner (preferred or unclean alike: there is no data to lose, it is all in
 * object storage) is given to the least-loaded live broker at once, with an epoch bump that fences
 * the old owner.
 */
final class ElectLeadersHandler {

  private final BrokerContext broker;

  ElectLeadersHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<ElectLeadersResponse> handle(ElectLeadersRequest request) {
    ClusterView.Snapshot snapshot = broker.view().current();
    List<ReplicaElectionResult> results = new ArrayList<>();
    List<CompletableFuture<?>> all = new ArrayList<>();
    List<TopicPartitions> wanted = new ArrayList<>();
    if (request.data().topicPartitions() == null) {
      for (TopicInfo t : snapshot.topicsByName().values()) {
        List<Integer> ps = new ArrayList<>();
        for (int p = 0; p < t.partitionCount(); p++) {
          ps.add(p);
        }
        wanted.add(new TopicPartitions().setTopic(t.name()).setPartitions(ps));
      }
    } else {
      wanted.addAll(request.data().topicPartitions());
    }
    for (TopicPartitions t : wanted) {
      ReplicaElectionResult result = new ReplicaElectionResult().setTopic(t.topic());
      results.add(result);
      for (int partition : t.partitions()) {
        PartitionResult r = new PartitionResult().setPartitionId(partition);
        result.partitionResult().add(r);
        Optional<TopicPartitionId> tp = Partitions.resolve(broker.view(), t.topic(), partition);
        if (tp.isEmpty()) {
          r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        } else if (snapshot.liveOwner(tp.get()).isPresent()) {
          r.setErrorCode(Errors.ELECTION_NOT_NEEDED.code());
        } else {
          all.add(
              broker
                  .assigner()
                  .assignOrphan(tp.get())
                  .exceptionally(
                      e -> {
                        r.setErrorCode(Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE.code())
                            .setErrorMessage(e.getMessage());
                        return null;
                      }));
        }
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(
            v ->
                new ElectLeadersResponse(
                    new ElectLeadersResponseData()
                        .setErrorCode(Errors.NONE.code())
                        .setReplicaElectionResults(results)));
  }
}
