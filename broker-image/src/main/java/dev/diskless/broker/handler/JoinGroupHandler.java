package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/** Classic-protocol JoinGroup, answered by Kafka's group coordinator. */
final class JoinGroupHandler {

  private final BrokerContext broker;

  JoinGroupHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, JoinGroupRequest request) {
    if (!broker
        .access()
        .allowed(context, AclOperation.READ, ResourceType.GROUP, request.data().groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    return broker
        .groups()
        .coordinator()
        .joinGroup(context, request.data(), BufferSupplier.NO_CACHING)
        .thenApply(r -> new JoinGroupResponse(r, context.apiVersion()));
  }
}
