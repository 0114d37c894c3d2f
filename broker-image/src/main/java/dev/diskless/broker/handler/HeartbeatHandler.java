package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/** Classic-protocol Heartbeat, answered by Kafka's group coordinator. */
final class HeartbeatHandler {

  private final BrokerContext broker;

  HeartbeatHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, HeartbeatRequest request) {
    if (!broker
        .access()
        .allowed(context, AclOperation.READ, ResourceType.GROUP, request.data().groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    return broker
        .groups()
        .coordinator()
        .heartbeat(context, request.data())
        .thenApply(HeartbeatResponse::new);
  }
}
