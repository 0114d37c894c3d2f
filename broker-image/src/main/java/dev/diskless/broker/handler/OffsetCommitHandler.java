package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/**
 * Commits offsets through the group coordinator, which writes them to the offsets topic and answers
 * once they are committed there. Partitions of unknown topics are refused first, as Kafka does.
 * Topics are named (up to v9); the topic-id version is not offered yet.
 */
final class OffsetCommitHandler {

  private final BrokerContext broker;

  OffsetCommitHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, OffsetCommitRequest request) {
    // As Kafka: READ on the group for the whole request, then READ on each topic.
    Access access = broker.access();
    if (!access.allowed(context, AclOperation.READ, ResourceType.GROUP, request.data().groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    Set<String> readable =
        access.allowedNames(
            context,
            AclOperation.READ,
            ResourceType.TOPIC,
            request.data().topics().stream().map(OffsetCommitRequestTopic::name).toList());
    OffsetCommitResponse.Builder response = OffsetCommitResponse.newBuilder(false);
    List<OffsetCommitRequestTopic> valid = new ArrayList<>();
    for (OffsetCommitRequestTopic topic : request.data().topics()) {
      if (!readable.contains(topic.name())) {
        response.addPartitions(
            Uuid.ZERO_UUID,
            topic.name(),
            topic.partitions(),
            OffsetCommitRequestPartition::partitionIndex,
            Errors.TOPIC_AUTHORIZATION_FAILED);
        continue;
      }
      Optional<TopicInfo> info = broker.view().current().topic(topic.name());
      if (info.isEmpty()) {
        response.addPartitions(
            Uuid.ZERO_UUID,
            topic.name(),
            topic.partitions(),
            OffsetCommitRequestPartition::partitionIndex,
            Errors.UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      OffsetCommitRequestTopic known = new OffsetCommitRequestTopic().setName(topic.name());
      for (OffsetCommitRequestPartition p : topic.partitions()) {
        if (p.partitionIndex() >= 0 && p.partitionIndex() < info.get().partitionCount()) {
          known.partitions().add(p);
        } else {
          response.addPartition(
              Uuid.ZERO_UUID, topic.name(), p.partitionIndex(), Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
      }
      if (!known.partitions().isEmpty()) {
        valid.add(known);
      }
    }
    if (valid.isEmpty()) {
      return CompletableFuture.completedFuture(response.build());
    }
    OffsetCommitRequestData data =
        new OffsetCommitRequestData()
            .setGroupId(request.data().groupId())
            .setMemberId(request.data().memberId())
            .setGenerationIdOrMemberEpoch(request.data().generationIdOrMemberEpoch())
            .setRetentionTimeMs(request.data().retentionTimeMs())
            .setGroupInstanceId(request.data().groupInstanceId())
            .setTopics(valid);
    return broker
        .groups()
        .coordinator()
        .commitOffsets(context, data, BufferSupplier.NO_CACHING)
        .thenApply(r -> response.merge(r).build());
  }
}
