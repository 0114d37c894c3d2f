package dev.diskless.broker.handler;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/** KIP-848 consumer group heartbeat (group.protocol=consumer): join, assignment, leave. */
final class ConsumerGroupHeartbeatHandler {

  private final BrokerContext broker;

  ConsumerGroupHeartbeatHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(
      RequestContext context, ConsumerGroupHeartbeatRequest request) {
    if (!broker
        .access()
        .allowed(context, AclOperation.READ, ResourceType.GROUP, request.data().groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    // As Kafka 4.4: every subscribed topic must be describable.
    List<String> subscribed = request.data().subscribedTopicNames();
    if (subscribed != null && !subscribed.isEmpty()) {
      Set<String> describable =
          broker
              .access()
              .allowedNames(context, AclOperation.DESCRIBE, ResourceType.TOPIC, subscribed);
      Set<String> refused = new TreeSet<>(subscribed);
      refused.removeAll(describable);
      if (!refused.isEmpty()) {
        return CompletableFuture.completedFuture(
            new ConsumerGroupHeartbeatResponse(
                new ConsumerGroupHeartbeatResponseData()
                    .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(new TopicAuthorizationException(refused).getMessage())));
      }
    }
    return broker
        .groups()
        .coordinator()
        .consumerGroupHeartbeat(context, request.data())
        .thenApply(ConsumerGroupHeartbeatResponse::new);
  }
}
