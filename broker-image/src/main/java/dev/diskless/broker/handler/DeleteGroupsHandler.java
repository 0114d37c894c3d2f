package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteGroupsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/** Deletes empty groups and their offsets (non-empty ones answer NON_EMPTY_GROUP). */
final class DeleteGroupsHandler {

  private final BrokerContext broker;

  DeleteGroupsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, DeleteGroupsRequest request) {
    return broker
        .groups()
        .coordinator()
        .deleteGroups(
            context,
            request.data().groupsNames().stream().distinct().toList(),
            BufferSupplier.NO_CACHING)
        .thenApply(
            results ->
                new DeleteGroupsResponse(new DeleteGroupsResponseData().setResults(results)));
  }
}
