package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/** Classic-protocol SyncGroup, answered by Kafka's group coordinator. */
final class SyncGroupHandler {

  private final BrokerContext broker;

  SyncGroupHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, SyncGroupRequest request) {
    if (!broker
        .access()
        .allowed(context, AclOperation.READ, ResourceType.GROUP, request.data().groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    if (!request.areMandatoryProtocolTypeAndNamePresent()) {
      // From v5 on the protocol type and name are mandatory; Kafka answers this.
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.INCONSISTENT_GROUP_PROTOCOL.exception()));
    }
    return broker
        .groups()
        .coordinator()
        .syncGroup(context, request.data(), BufferSupplier.NO_CACHING)
        .thenApply(SyncGroupResponse::new);
  }
}
