package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.RequestContext;

/** Lists the groups of the offsets-topic partitions this broker coordinates (admin asks all). */
final class ListGroupsHandler {

  private final BrokerContext broker;

  ListGroupsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, ListGroupsRequest request) {
    return broker
        .groups()
        .coordinator()
        .listGroups(context, request.data())
        .thenApply(ListGroupsResponse::new);
  }
}
