package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.requests.RequestContext;

/**
 * Returns committed offsets of one group (before v8) or several (v8 and later), for the partitions
 * asked or, when none are named, all of them. Each group is answered by the coordinator; an error
 * for one group does not fail the others.
 */
final class OffsetFetchHandler {

  private final BrokerContext broker;

  OffsetFetchHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, OffsetFetchRequest request) {
    List<CompletableFuture<OffsetFetchResponseGroup>> futures = new ArrayList<>();
    for (OffsetFetchRequestGroup group : request.groups()) {
      futures.add(
          broker
              .groups()
              .coordinator()
              .fetchOffsets(context, group, request.requireStable())
              .exceptionally(
                  t ->
                      OffsetFetchResponse.groupError(
                          group, Errors.forException(t), request.version())));
    }
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .thenApply(
            v ->
                new OffsetFetchResponse.Builder(
                        futures.stream().map(CompletableFuture::join).toList())
                    .build(request.version()));
  }
}
