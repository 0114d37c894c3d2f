package dev.diskless.broker.handler;

import dev.diskless.broker.quota.RequestQuota;
import dev.diskless.storage.metadata.LeaseGuard;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a parsed request with the handler {@link ApiRegistry} has for its API key, after the
 * checks every API shares: the API's cluster-wide authorization rule, then whether this broker
 * still holds its lease. A handler that fails unexpectedly gets Kafka's generic error response for
 * that request rather than a dropped connection; every request is timed by API and outcome.
 */
public final class RequestDispatcher {

  private static final Logger LOG = LoggerFactory.getLogger(RequestDispatcher.class);

  private final ApiRegistry apis;
  private final Access access;
  private final MeterRegistry meters;
  private final LeaseGuard lease;
  private final int nodeId;
  private final RequestQuota requestQuota;

  /** {@code lease}: whether this broker still holds its registration lease ({@link LeaseGate}). */
  public RequestDispatcher(BrokerContext broker, LeaseGuard lease) {
    this.apis = new ApiRegistry(broker);
    this.access = broker.access();
    this.meters = broker.meters();
    this.lease = lease;
    this.nodeId = broker.nodeId();
    this.requestQuota = new RequestQuota(broker.quotas());
  }

  /** The request quota the connections count their requests' time against. */
  public RequestQuota requestQuota() {
    return requestQuota;
  }

  /** The APIs answered, with their versions and authorization rules. */
  public ApiRegistry apis() {
    return apis;
  }

  public CompletableFuture<AbstractResponse> handle(
      RequestContext context, AbstractRequest request) {
    ApiKeys key = context.header.apiKey();
    CompletableFuture<? extends AbstractResponse> response;
    try {
      Optional<ApiRegistry.Api> api = apis.find(key);
      if (api.isEmpty()) {
        response =
            CompletableFuture.completedFuture(
                request.getErrorResponse(
                    new UnsupportedVersionException(key + " is not supported")));
      } else if (!clusterRuleAllows(context, api.get().rule())) {
        response =
            CompletableFuture.completedFuture(
                request.getErrorResponse(
                    new ClusterAuthorizationException(
                        "Request "
                            + key
                            + " needs "
                            + String.join(
                                " or ",
                                api.get().rule().clusterOperations().stream()
                                    .map(Enum::name)
                                    .toList())
                            + " on the cluster")));
      } else if (lease.holds()) {
        response = api.get().handler().handle(context, request);
      } else {
        // Read the lease once: a request is either refused or answered as without it.
        Optional<AbstractResponse> refused = LeaseGate.refusal(key, request);
        response =
            refused.isPresent()
                ? CompletableFuture.completedFuture(refused.get())
                : request instanceof MetadataRequest
                    ? api.get()
                        .handler()
                        .handle(context, request)
                        .thenApply(r -> LeaseGate.disown((MetadataResponse) r, nodeId))
                    : api.get().handler().handle(context, request);
      }
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    long start = System.nanoTime();
    return response
        .<AbstractResponse>thenApply(r -> r)
        .whenComplete(
            (r, t) ->
                Timer.builder("diskless.requests")
                    .description("Kafka requests by API and outcome, from parse to response")
                    .tag("api", key.name)
                    .tag("outcome", t == null ? "response" : "failure")
                    .publishPercentileHistogram()
                    .register(meters)
                    .record(Duration.ofNanos(System.nanoTime() - start)))
        .exceptionally(
            t -> {
              LOG.warn("{} failed: {}", key, t.toString());
              return request.getErrorResponse(t);
            });
  }

  /** An API with a cluster rule passes if any of its operations is allowed. */
  private boolean clusterRuleAllows(RequestContext context, AuthorizationRule rule) {
    if (rule.kind() != AuthorizationRule.Kind.CLUSTER || !access.enabled()) {
      return true;
    }
    var ops = rule.clusterOperations();
    for (int i = 0; i < ops.size(); i++) {
      AclOperation op = ops.get(i);
      // Only the last refusal is logged: the earlier ones have a fallback (as Kafka's checks).
      if (access.cluster(context, op, i == ops.size() - 1)) {
        return true;
      }
    }
    return false;
  }
}
