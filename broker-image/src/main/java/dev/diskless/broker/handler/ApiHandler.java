package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestContext;

/**
 * Answers one API: given the request and its context (who sent it, on which listener), completes
 * with the response. A handler that fails gets Kafka's error response for its request.
 */
@FunctionalInterface
public interface ApiHandler<Q extends AbstractRequest> {

  CompletableFuture<? extends AbstractResponse> handle(RequestContext context, Q request);
}
