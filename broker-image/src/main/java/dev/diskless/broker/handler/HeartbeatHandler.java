package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.RequestContext;

/** Classic-protocol Heartbeat, answered by Kafka's group coordinator. */
final class HeartbeatHandler {

  private final BrokerContext broker;

  HeartbeatHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, HeartbeatRequest request) {
    return broker
        .groups()
        .coordinator()
        .heartbeat(context, request.data())
        .thenApply(HeartbeatResponse::new);
  }
}
