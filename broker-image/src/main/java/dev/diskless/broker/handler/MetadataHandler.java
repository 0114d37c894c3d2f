package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.ReadReplicas;
import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.Resource;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Live brokers, and each topic's partitions with their owner as leader; the replicas (and ISR) are
 * the owner followed by its read replicas, one per other zone ({@link ReadReplicas}), none offline.
 * Unknown topics are created on request when the client allows it (Kafka's
 * auto.create.topics.enable, on by default) with one partition, within the broker's partition
 * limits; they answer LEADER_NOT_AVAILABLE until owned. With an authorizer, topics follow Kafka's
 * rules: DESCRIBE to see one, CREATE on the cluster or the topic to create it.
 */
final class MetadataHandler {

  private final BrokerContext broker;

  MetadataHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<MetadataResponse> handle(RequestContext context, MetadataRequest request) {
    ClusterView.Snapshot snapshot = broker.view().current();
    // Topics named by id (v10 and later) are looked up by it: unknown ids answer
    // UNKNOWN_TOPIC_ID, and a known one is answered as its name would be.
    List<String> names = null;
    Set<String> byId = new HashSet<>();
    List<Uuid> unknownIds = new ArrayList<>();
    if (request.data().topics() != null) {
      names = new ArrayList<>();
      for (MetadataRequestTopic t : request.data().topics()) {
        if ((t.name() == null || t.name().isEmpty())
            && t.topicId() != null
            && !Uuid.ZERO_UUID.equals(t.topicId())) {
          TopicInfo info =
              snapshot
                  .topicsById()
                  .get(
                      new java.util.UUID(
                          t.topicId().getMostSignificantBits(),
                          t.topicId().getLeastSignificantBits()));
          if (info == null) {
            unknownIds.add(t.topicId());
          } else {
            names.add(info.name());
            byId.add(info.name());
          }
        } else {
          names.add(t.name());
        }
      }
    }
    Access access = broker.access();
    // As Kafka: topics the client may not describe are refused by name when named, and left out
    // silently when it asked for all of them.
    Set<String> describable =
        names == null
            ? access.allowedNames(
                context,
                AclOperation.DESCRIBE,
                ResourceType.TOPIC,
                snapshot.topicsByName().keySet(),
                false)
            : access.allowedNames(context, AclOperation.DESCRIBE, ResourceType.TOPIC, names);
    List<String> missing =
        names == null
            ? List.of()
            : names.stream()
                .filter(
                    n ->
                        !byId.contains(n) && describable.contains(n) && snapshot.topic(n).isEmpty())
                .distinct()
                .toList();
    Set<String> refused = new HashSet<>();
    if (names != null) {
      names.stream().filter(n -> !describable.contains(n)).forEach(refused::add);
    }
    if (!missing.isEmpty()
        && request.data().allowAutoTopicCreation()
        && !access.cluster(context, AclOperation.CREATE, false)) {
      Set<String> creatable =
          access.allowedNames(context, AclOperation.CREATE, ResourceType.TOPIC, missing);
      missing.stream().filter(n -> !creatable.contains(n)).forEach(refused::add);
      missing = missing.stream().filter(creatable::contains).toList();
    }
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
    List<String> wanted =
        names != null
            ? names
            : snapshot.topicsByName().keySet().stream().filter(describable::contains).toList();
    return created.thenApply(
        v -> {
          MetadataResponse response =
              build(context, request, wanted, refused, byId, broker.view().current());
          for (Uuid id : unknownIds) {
            response
                .data()
                .topics()
                .add(
                    new MetadataResponseTopic()
                        .setTopicId(id)
                        .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
          }
          return response;
        });
  }

  private MetadataResponse build(
      RequestContext context,
      MetadataRequest request,
      List<String> wanted,
      Set<String> refused,
      Set<String> byId,
      ClusterView.Snapshot snapshot) {
    Access access = broker.access();
    MetadataResponseData data = new MetadataResponseData();
    // Only the brokers the client's listener reaches, at that listener's address (as Kafka).
    String listener = context.listenerName.value();
    Set<Integer> reachable = new HashSet<>();
    for (BrokerInfo b : snapshot.servingBrokers()) {
      b.endpoint(listener)
          .ifPresent(
              e -> {
                reachable.add(b.nodeId());
                data.brokers()
                    .add(
                        new MetadataResponseBroker()
                            .setNodeId(b.nodeId())
                            .setHost(e.host())
                            .setPort(e.port())
                            .setRack(b.rack().orElse(null)));
              });
    }
    data.setClusterId(broker.clusterId());
    data.setControllerId(snapshot.controllerId());
    if (request.data().includeClusterAuthorizedOperations()) {
      data.setClusterAuthorizedOperations(
          access.cluster(context, AclOperation.DESCRIBE)
              ? access.authorizedOperations(context, ResourceType.CLUSTER, Resource.CLUSTER_NAME)
              : 0);
    }
    boolean withOperations = request.data().includeTopicAuthorizedOperations();
    ReadReplicas readReplicas = ReadReplicas.in(snapshot);
    for (String name : wanted) {
      TopicInfo topic = snapshot.topicsByName().get(name);
      MetadataResponseTopic t =
          new MetadataResponseTopic().setName(name).setIsInternal(OffsetsTopic.isInternal(name));
      if (refused.contains(name)) {
        // Asked by id, the id is told back (ids are not secret) but not the name.
        data.topics()
            .add(
                byId.contains(name)
                    ? t.setName(null)
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setTopicId(topic == null ? Uuid.ZERO_UUID : uuid(topic))
                    : t.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setTopicId(Uuid.ZERO_UUID));
        continue;
      }
      if (topic == null) {
        Errors error =
            TopicNames.validate(name) == null
                ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                : Errors.INVALID_TOPIC_EXCEPTION;
        data.topics().add(t.setErrorCode(error.code()).setTopicId(Uuid.ZERO_UUID));
        continue;
      }
      t.setTopicId(uuid(topic));
      for (int p = 0; p < topic.partitionCount(); p++) {
        TopicPartitionId tp = new TopicPartitionId(topic.topicId(), p);
        PartitionMetadata pm = snapshot.partitions().get(tp);
        MetadataResponsePartition mp = new MetadataResponsePartition().setPartitionIndex(p);
        int owner = pm == null || pm.owner().isEmpty() ? -1 : pm.owner().getAsInt();
        // An owner still starting cannot serve yet: the client waits as for a missing leader.
        boolean live = snapshot.serving(owner);
        if (!live) {
          mp.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1).setLeaderEpoch(-1);
        } else if (!reachable.contains(owner)) {
          // The owner has no listener of this name: Kafka's answer from v6 on.
          Errors error =
              request.version() >= 6 ? Errors.LISTENER_NOT_FOUND : Errors.LEADER_NOT_AVAILABLE;
          List<Integer> replicas = readReplicas.of(tp, owner);
          mp.setErrorCode(error.code())
              .setLeaderId(-1)
              .setLeaderEpoch(pm.leaderEpoch())
              .setReplicaNodes(replicas)
              .setIsrNodes(replicas)
              .setOfflineReplicas(List.of());
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
      if (withOperations) {
        t.setTopicAuthorizedOperations(
            access.authorizedOperations(context, ResourceType.TOPIC, name));
      }
      data.topics().add(t);
    }
    return new MetadataResponse(data, request.version());
  }

  private static Uuid uuid(TopicInfo topic) {
    return new Uuid(
        topic.topicId().getMostSignificantBits(), topic.topicId().getLeastSignificantBits());
  }
}
