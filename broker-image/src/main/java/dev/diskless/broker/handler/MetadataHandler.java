package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.ReadReplicas;
import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;

/**
 * Live brokers, and each topic's partitions with their owner as leader; the replicas (and ISR) are
 * the owner followed by its read replicas, one per other zone ({@link ReadReplicas}), none offline.
 * Unknown topics are created on request when the client allows it (Kafka's
 * auto.create.topics.enable, on by default) with one partition, within the broker's partition
 * limits; they answer LEADER_NOT_AVAILABLE until owned.
 */
final class MetadataHandler {

  private final BrokerContext broker;

  MetadataHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<MetadataResponse> handle(MetadataRequest request) {
    List<String> names = request.data().topics() == null ? null : request.topics();
    ClusterView.Snapshot snapshot = broker.view().current();
    List<String> missing =
        names == null
            ? List.of()
            : names.stream().filter(n -> snapshot.topic(n).isEmpty()).toList();
    CompletableFuture<?> created = CompletableFuture.completedFuture(null);
    if (!missing.isEmpty() && request.data().allowAutoTopicCreation()) {
      List<CompletableFuture<?>> creations = new ArrayList<>();
      long existing = CreateTopicsHandler.totalPartitions(snapshot);
      for (String name : missing) {
        // A full cluster creates nothing: the topic stays unknown, as when Kafka's automatic
        // creation is refused.
        if (TopicNames.validate(name) == null
            && broker.partitionLimits().checkCluster(existing, creations.size() + 1).isEmpty()) {
          creations.add(
              broker
                  .topics()
                  .create(name, 1, Map.of(), broker.partitionLimits())
                  .thenCompose(broker.assigner()::assign)
                  .exceptionally(t -> null));
        }
      }
      created =
          CompletableFuture.allOf(creations.toArray(CompletableFuture[]::new))
              .thenCompose(v -> broker.view().refresh());
    }
    return created.thenApply(v -> build(names, broker.view().current(), request.version()));
  }

  private MetadataResponse build(List<String> names, ClusterView.Snapshot snapshot, short version) {
    MetadataResponseData data = new MetadataResponseData();
    for (BrokerInfo b : snapshot.servingBrokers()) {
      data.brokers()
          .add(
              new MetadataResponseBroker()
                  .setNodeId(b.nodeId())
                  .setHost(b.host())
                  .setPort(b.port())
                  .setRack(b.rack().orElse(null)));
    }
    data.setClusterId(broker.clusterId());
    data.setControllerId(snapshot.controllerId());
    List<String> wanted = names != null ? names : new ArrayList<>(snapshot.topicsByName().keySet());
    ReadReplicas readReplicas = ReadReplicas.in(snapshot);
    for (String name : wanted) {
      TopicInfo topic = snapshot.topicsByName().get(name);
      MetadataResponseTopic t =
          new MetadataResponseTopic().setName(name).setIsInternal(OffsetsTopic.isInternal(name));
      if (topic == null) {
        Errors error =
            TopicNames.validate(name) == null
                ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                : Errors.INVALID_TOPIC_EXCEPTION;
        data.topics().add(t.setErrorCode(error.code()).setTopicId(Uuid.ZERO_UUID));
        continue;
      }
      t.setTopicId(
          new Uuid(
              topic.topicId().getMostSignificantBits(), topic.topicId().getLeastSignificantBits()));
      for (int p = 0; p < topic.partitionCount(); p++) {
        TopicPartitionId tp = new TopicPartitionId(topic.topicId(), p);
        PartitionMetadata pm = snapshot.partitions().get(tp);
        MetadataResponsePartition mp = new MetadataResponsePartition().setPartitionIndex(p);
        int owner = pm == null || pm.owner().isEmpty() ? -1 : pm.owner().getAsInt();
        // An owner still starting cannot serve yet: the client waits as for a missing leader.
        boolean live = snapshot.serving(owner);
        if (!live) {
          mp.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1).setLeaderEpoch(-1);
        } else {
          // Every read replica reads the committed log itself, so it is always in sync.
          List<Integer> replicas = readReplicas.of(tp, owner);
          mp.setLeaderId(owner)
              .setLeaderEpoch(pm.leaderEpoch())
              .setReplicaNodes(replicas)
              .setIsrNodes(replicas)
              .setOfflineReplicas(List.of());
        }
        t.partitions().add(mp);
      }
      data.topics().add(t);
    }
    return new MetadataResponse(data, version);
  }
}
