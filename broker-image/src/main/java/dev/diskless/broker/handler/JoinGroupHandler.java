package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/** Classic-protocol JoinGroup, answered by Kafka's group coordinator. */
final class JoinGroupHandler {

  private final BrokerContext broker;

  JoinGroupHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, JoinGroupRequest request) {
    return broker
        .groups()
        .coordinator()
        .joinGroup(context, request.data(), BufferSupplier.NO_CACHING)
        .thenApply(r -> new JoinGroupResponse(r, context.apiVersion()));
  }
}
