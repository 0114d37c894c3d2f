package dev.diskless.broker.handler;

import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DeleteTopicsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Marks topics deleted (by name, or by id in newer versions): the name is free at once, the
 * partitions stop being served, and the storage engine's cleaner removes the data afterwards.
 */
final class DeleteTopicsHandler {

  private final BrokerContext broker;

  DeleteTopicsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<DeleteTopicsResponse> handle(
      RequestContext context, DeleteTopicsRequest request) {
    Access access = broker.access();
    // As Kafka's controller: DELETE on the cluster, else DESCRIBE and DELETE on each topic; one
    // that may not be described is refused before its existence is told.
    boolean clusterDelete = access.cluster(context, AclOperation.DELETE, false);
    List<DeleteTopicState> wanted = new ArrayList<>(request.data().topics());
    for (String name : request.data().topicNames()) {
      wanted.add(new DeleteTopicState().setName(name).setTopicId(Uuid.ZERO_UUID));
    }
    DeleteTopicsResponseData data = new DeleteTopicsResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (DeleteTopicState t : wanted) {
      DeletableTopicResult r = new DeletableTopicResult().setName(t.name()).setTopicId(t.topicId());
      data.responses().add(r);
      Optional<TopicInfo> topic =
          t.name() != null
              ? broker.view().current().topic(t.name())
              : Optional.ofNullable(
                  broker
                      .view()
                      .current()
                      .topicsById()
                      .get(
                          new UUID(
                              t.topicId().getMostSignificantBits(),
                              t.topicId().getLeastSignificantBits())));
      String name = t.name() != null ? t.name() : topic.map(TopicInfo::name).orElse(null);
      if (!clusterDelete && name != null) {
        if (!access.allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
          r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
          if (t.name() == null) {
            r.setName(null);
          }
          continue;
        }
        if (topic.isPresent()
            && !access.allowed(context, AclOperation.DELETE, ResourceType.TOPIC, name)) {
          // Describable: its name may be told, as Kafka does.
          r.setName(name).setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
          continue;
        }
      }
      if (topic.isEmpty()) {
        r.setErrorCode(
            t.name() != null
                ? Errors.UNKNOWN_TOPIC_OR_PARTITION.code()
                : Errors.UNKNOWN_TOPIC_ID.code());
        continue;
      }
      if (OffsetsTopic.isInternal(topic.get().name())) {
        r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())
            .setErrorMessage("internal topic " + topic.get().name() + " cannot be deleted");
        continue;
      }
      UUID id = topic.get().topicId();
      r.setName(topic.get().name())
          .setTopicId(new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits()));
      all.add(
          broker
              .topics()
              .markDeleted(id)
              .handle(
                  (deleted, e) -> {
                    if (e != null) {
                      r.setErrorCode(ErrorCodes.of(e).code());
                    } else if (!deleted) {
                      r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    }
                    return null;
                  }));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenCompose(v -> broker.view().refresh())
        .thenApply(s -> new DeleteTopicsResponse(data));
  }
}
