package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestPartition;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestTopic;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetDeleteResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/** Deletes a group's committed offsets for partitions it no longer consumes. */
final class OffsetDeleteHandler {

  private final BrokerContext broker;

  OffsetDeleteHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, OffsetDeleteRequest request) {
    // As Kafka: DELETE on the group for the whole request, then READ on each topic.
    Access access = broker.access();
    if (!access.allowed(
        context, AclOperation.DELETE, ResourceType.GROUP, request.data().groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    List<String> names = new ArrayList<>();
    request.data().topics().forEach(t -> names.add(t.name()));
    Set<String> readable =
        access.allowedNames(context, AclOperation.READ, ResourceType.TOPIC, names);
    OffsetDeleteResponse.Builder response = new OffsetDeleteResponse.Builder();
    OffsetDeleteRequestTopicCollection valid = new OffsetDeleteRequestTopicCollection();
    for (OffsetDeleteRequestTopic topic : request.data().topics()) {
      if (!readable.contains(topic.name())) {
        response.addPartitions(
            topic.name(),
            topic.partitions(),
            OffsetDeleteRequestPartition::partitionIndex,
            Errors.TOPIC_AUTHORIZATION_FAILED);
        continue;
      }
      Optional<TopicInfo> info = broker.view().current().topic(topic.name());
      if (info.isEmpty()) {
        response.addPartitions(
            topic.name(),
            topic.partitions(),
            OffsetDeleteRequestPartition::partitionIndex,
            Errors.UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      OffsetDeleteRequestTopic known = new OffsetDeleteRequestTopic().setName(topic.name());
      for (OffsetDeleteRequestPartition p : topic.partitions()) {
        if (p.partitionIndex() >= 0 && p.partitionIndex() < info.get().partitionCount()) {
          known.partitions().add(p.duplicate());
        } else {
          response.addPartition(
              topic.name(), p.partitionIndex(), Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
      }
      if (!known.partitions().isEmpty()) {
        valid.add(known);
      }
    }
    OffsetDeleteRequestData data =
        new OffsetDeleteRequestData().setGroupId(request.data().groupId()).setTopics(valid);
    return broker
        .groups()
        .coordinator()
        .deleteOffsets(context, data, BufferSupplier.NO_CACHING)
        .thenApply(r -> response.merge(r).build());
  }
}
