package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.requests.RequestContext;

/** KIP-848 consumer group heartbeat (group.protocol=consumer): join, assignment, leave. */
final class ConsumerGroupHeartbeatHandler {

  private final BrokerContext broker;

  ConsumerGroupHeartbeatHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(
      RequestContext context, ConsumerGroupHeartbeatRequest request) {
    return broker
        .groups()
        .coordinator()
        .consumerGroupHeartbeat(context, request.data())
        .thenApply(ConsumerGroupHeartbeatResponse::new);
  }
}
