package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData.ListPartitionReassignmentsTopics;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment;
import org.apache.kafka.common.requests.ListPartitionReassignmentsRequest;
import org.apache.kafka.common.requests.ListPartitionReassignmentsResponse;

/**
 * Pending ownership moves, in Kafka's terms: the current owner is the replica being removed and the
 * target the one being added. Partitions named but not moving are left out, as Kafka does.
 */
final class ListPartitionReassignmentsHandler {

  private final BrokerContext broker;

  ListPartitionReassignmentsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<ListPartitionReassignmentsResponse> handle(
      ListPartitionReassignmentsRequest request) {
    return broker
        .view()
        .refresh()
        .thenApply(snapshot -> new ListPartitionReassignmentsResponse(build(request, snapshot)));
  }

  private static ListPartitionReassignmentsResponseData build(
      ListPartitionReassignmentsRequest request, ClusterView.Snapshot snapshot) {
    List<TopicPartitionId> wanted = new ArrayList<>();
    if (request.data().topics() == null) {
      wanted.addAll(snapshot.moves().keySet());
    } else {
      for (ListPartitionReassignmentsTopics t : request.data().topics()) {
        TopicInfo info = snapshot.topicsByName().get(t.name());
        if (info != null) {
          t.partitionIndexes().forEach(p -> wanted.add(new TopicPartitionId(info.topicId(), p)));
        }
      }
    }
    Map<String, OngoingTopicReassignment> byTopic = new TreeMap<>();
    for (TopicPartitionId tp : wanted.stream().sorted().toList()) {
      Integer target = snapshot.moves().get(tp);
      TopicInfo info = snapshot.topicsById().get(tp.topicId());
      if (target == null || info == null) {
        continue;
      }
      OptionalInt owner = snapshot.liveOwner(tp);
      List<Integer> removing = owner.isPresent() ? List.of(owner.getAsInt()) : List.of();
      List<Integer> replicas = new ArrayList<>(removing);
      replicas.add(target);
      byTopic
          .computeIfAbsent(info.name(), n -> new OngoingTopicReassignment().setName(n))
          .partitions()
          .add(
              new OngoingPartitionReassignment()
                  .setPartitionIndex(tp.partition())
                  .setReplicas(replicas)
                  .setAddingReplicas(List.of(target))
                  .setRemovingReplicas(removing));
    }
    return new ListPartitionReassignmentsResponseData()
        .setTopics(new ArrayList<>(byTopic.values()));
  }
}
