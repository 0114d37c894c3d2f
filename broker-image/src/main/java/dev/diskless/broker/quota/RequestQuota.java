package dev.diskless.broker.quota;

import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestContext;

/**
 * Kafka's request quota ({@code request_percentage}, ClientRequestQuotaManager) over the time this
 * broker's threads spend on a client's requests, and the throttle a response carries. Kafka counts
 * the wall-clock time a request-handler thread holds a request plus the network thread's time to
 * read and write it; our handlers are asynchronous, so a request's time here is what its
 * connection's event loop spends on it: reading and parsing the frame and dispatching it up to the
 * handler returning its future (with whatever the handler does synchronously, including
 * continuations of futures already complete), counted and checked against the quota when the
 * response is ready, as Kafka checks when it sends; then serializing and writing the response,
 * counted without a check, so that it weighs on the next requests, as Kafka's network-thread time
 * does. It is {@link System#nanoTime} around those sections, Kafka's measure, so time the event
 * loop is blocked counts too. Work shared by many requests is not any one client's and is not
 * counted: WAL flushes and uploads, the PostgreSQL commit, fetch long-poll waits, response futures
 * completed on other threads, and the socket flush (with TLS encryption) of the responses written
 * together. As Kafka: inter-broker APIs ({@link ApiKeys#clusterAction}, unless refused for lack of
 * cluster authorization), replica fetches and acks=0 produce are exempt, counted in {@code
 * exempt-request-time} and never throttled; SASL exchanges, which Kafka's network threads answer
 * before any handler sees a request, are not counted. A response's throttle is the larger of its
 * byte-rate throttle and the request quota's, recorded under the quota that set it; unlike Kafka, a
 * fetch throttled by the request quota alone still carries its records, as the quota is checked
 * only once the response is built.
 */
public final class RequestQuota {

  /** Kafka's NanosToPercentagePerSecond: one second of one thread is 100 %. */
  static final double NANOS_TO_PERCENTAGE = 100.0 / TimeUnit.SECONDS.toNanos(1);

  /** How a request's time counts. */
  public enum Kind {
    /** Against its client's request quota, which may throttle it. */
    LIMITED,
    /** As exempt time, never throttled (unless refused for lack of cluster authorization). */
    EXEMPT,
    /** Not at all. */
    UNCOUNTED
  }

  private final ClientQuotas quotas;

  public RequestQuota(ClientQuotas quotas) {
    this.quotas = quotas;
  }

  /**
   * How a request counts: {@code authenticating} is true while its connection has not completed
   * SASL authentication, when Kafka's authenticator, not its handlers, answers it.
   */
  public static Kind kind(ApiKeys api, AbstractRequest request, boolean authenticating) {
    if (authenticating || api == ApiKeys.SASL_HANDSHAKE || api == ApiKeys.SASL_AUTHENTICATE) {
      return Kind.UNCOUNTED;
    }
    if (api.clusterAction
        || (request instanceof FetchRequest fetch && !FetchRequest.isConsumer(fetch.replicaId()))
        || (request instanceof ProduceRequest produce && produce.acks() == 0)) {
      return Kind.EXEMPT;
    }
    return Kind.LIMITED;
  }

  /**
   * When {@code response} is ready to send: counts the {@code handlingNanos} its request took, sets
   * the response's throttle time to the larger of its own (a byte-rate quota's) and the request
   * quota's, records it under the quota that set it, and returns it: how long the connection must
   * not be read.
   */
  public int beforeSend(
      RequestContext context, Kind kind, long handlingNanos, AbstractResponse response) {
    int byteRateMs = Math.max(0, response.throttleTimeMs());
    int requestMs = 0;
    if (kind != Kind.UNCOUNTED && quotas.any(ClientQuotas.Type.REQUEST)) {
      double percent = handlingNanos * NANOS_TO_PERCENTAGE;
      if (exempt(kind, response)) {
        quotas.recordExempt(percent);
      } else {
        requestMs =
            quotas.record(
                ClientQuotas.Type.REQUEST, context.principal(), context.clientId(), percent);
      }
    }
    if (requestMs > byteRateMs) {
      response.maybeSetThrottleTimeMs(requestMs);
      quotas.throttled(
          ClientQuotas.Type.REQUEST, context.principal(), context.clientId(), requestMs);
      return requestMs;
    }
    if (byteRateMs > 0) {
      ClientQuotas.Type type =
          switch (context.header.apiKey()) {
            case PRODUCE -> ClientQuotas.Type.PRODUCE;
            case FETCH -> ClientQuotas.Type.FETCH;
            default -> null;
          };
      if (type != null) {
        quotas.throttled(type, context.principal(), context.clientId(), byteRateMs);
      }
    }
    return byteRateMs;
  }

  /** Counts the {@code sendingNanos} spent serializing and writing {@code response}, unchecked. */
  public void afterSend(
      RequestContext context, Kind kind, long sendingNanos, AbstractResponse response) {
    if (kind == Kind.UNCOUNTED || !quotas.any(ClientQuotas.Type.REQUEST)) {
      return;
    }
    double percent = sendingNanos * NANOS_TO_PERCENTAGE;
    if (exempt(kind, response)) {
      quotas.recordExempt(percent);
    } else {
      quotas.recordNoThrottle(
          ClientQuotas.Type.REQUEST, context.principal(), context.clientId(), percent);
    }
  }

  /**
   * As Kafka's handleError: an inter-broker API refused for lack of cluster authorization is
   * throttled, so that it is no way around a quota.
   */
  private static boolean exempt(Kind kind, AbstractResponse response) {
    return kind == Kind.EXEMPT
        && !response.errorCounts().containsKey(Errors.CLUSTER_AUTHORIZATION_FAILED);
  }
}
