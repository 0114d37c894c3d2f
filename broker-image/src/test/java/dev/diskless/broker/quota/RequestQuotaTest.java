package dev.diskless.broker.quota;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.metadata.ClientQuotaStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SaslHandshakeRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersResponse;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which requests count against request_percentage as Kafka's ClientRequestQuotaManager counts them,
 * and what a response over the quota carries: a throttle bounded to one quota window, the larger of
 * it and a byte-rate throttle, Kafka's metrics; exempt time never throttles.
 */
class RequestQuotaTest {

  private final MeterRegistry meters = new SimpleMeterRegistry();
  private ClientQuotas quotas;

  @AfterEach
  void close() {
    if (quotas != null) {
      quotas.close();
    }
  }

  private RequestQuota withQuota(String clientId, double percent) {
    var entity =
        new ClientQuotaStore.Entity(
            ClientQuotaStore.Part.ABSENT, ClientQuotaStore.Part.named(clientId));
    quotas =
        ClientQuotas.start(
            () ->
                CompletableFuture.completedFuture(
                    List.of(new ClientQuotaStore.Quota(entity, "request_percentage", percent))),
            meters);
    return new RequestQuota(quotas);
  }

  private static RequestContext context(ApiKeys api, String clientId) {
    return new RequestContext(
        new RequestHeader(api, api.latestVersion(), clientId, 1),
        "c1",
        InetAddress.getLoopbackAddress(),
        KafkaPrincipal.ANONYMOUS,
        ListenerName.normalised("PLAINTEXT"),
        SecurityProtocol.PLAINTEXT,
        ClientInformation.EMPTY,
        false);
  }

  private static MetadataResponse metadataResponse() {
    return new MetadataResponse(new MetadataResponseData(), ApiKeys.METADATA.latestVersion());
  }

  private double gauge(String name, String clientId) {
    var search = meters.find(name);
    if (clientId != null) {
      search = search.tag("client-id", clientId);
    }
    Gauge g = search.gauge();
    assertThat(g).as(name).isNotNull();
    return g.value();
  }

  @Test
  void kafkasExemptionsAndWhatIsNotCounted() {
    var metadata = new MetadataRequest.Builder(List.of("t"), false).build();
    assertThat(RequestQuota.kind(ApiKeys.METADATA, metadata, false))
        .isEqualTo(RequestQuota.Kind.LIMITED);
    // As Kafka's KafkaApis: ApiVersions is throttled like any client API once authenticated.
    var apiVersions = new ApiVersionsRequest.Builder().build();
    assertThat(RequestQuota.kind(ApiKeys.API_VERSIONS, apiVersions, false))
        .isEqualTo(RequestQuota.Kind.LIMITED);
    assertThat(RequestQuota.kind(ApiKeys.API_VERSIONS, apiVersions, true))
        .isEqualTo(RequestQuota.Kind.UNCOUNTED);
    assertThat(
            RequestQuota.kind(
                ApiKeys.SASL_HANDSHAKE, new SaslHandshakeRequest.Builder(null).build(), false))
        .isEqualTo(RequestQuota.Kind.UNCOUNTED);
    assertThat(RequestQuota.kind(ApiKeys.WRITE_TXN_MARKERS, null, false))
        .isEqualTo(RequestQuota.Kind.EXEMPT);
    assertThat(RequestQuota.kind(ApiKeys.PRODUCE, produce((short) 0), false))
        .isEqualTo(RequestQuota.Kind.EXEMPT);
    assertThat(RequestQuota.kind(ApiKeys.PRODUCE, produce((short) 1), false))
        .isEqualTo(RequestQuota.Kind.LIMITED);
    assertThat(
            RequestQuota.kind(
                ApiKeys.FETCH,
                FetchRequest.Builder.forConsumer((short) 12, 500, 1, Map.of()).build((short) 12),
                false))
        .isEqualTo(RequestQuota.Kind.LIMITED);
    assertThat(
            RequestQuota.kind(
                ApiKeys.FETCH,
                FetchRequest.Builder.forReplica((short) 12, 2, 0L, 500, 1, Map.of())
                    .build((short) 12),
                false))
        .isEqualTo(RequestQuota.Kind.EXEMPT);
  }

  private static ProduceRequest produce(short acks) {
    return new ProduceRequest(new ProduceRequestData().setAcks(acks).setTimeoutMs(1000), (short) 9);
  }

  @Test
  void aClientOverItsPercentageIsThrottledForAtMostOneWindow() {
    RequestQuota quota = withQuota("busy", 1.0);
    // One thread for 500 ms is 50 percent-seconds; over Kafka's 10-second minimum window that is
    // 5 %, five times the quota.
    long handling = TimeUnit.MILLISECONDS.toNanos(500);
    MetadataResponse response = metadataResponse();
    int throttle =
        quota.beforeSend(
            context(ApiKeys.METADATA, "busy"), RequestQuota.Kind.LIMITED, handling, response);
    assertThat(throttle).isEqualTo(1000);
    assertThat(response.throttleTimeMs()).isEqualTo(1000);
    assertThat(gauge("kafka.Request.request.time", "busy")).isGreaterThan(1.0);
    assertThat(gauge("kafka.Request.throttle.time", "busy")).isEqualTo(1000.0);

    // Another client id has no quota: never throttled, never counted.
    MetadataResponse other = metadataResponse();
    assertThat(
            quota.beforeSend(
                context(ApiKeys.METADATA, "idle"), RequestQuota.Kind.LIMITED, handling, other))
        .isZero();
    assertThat(other.throttleTimeMs()).isZero();
    assertThat(meters.find("kafka.Request.request.time").tag("client-id", "idle").gauge()).isNull();
  }

  @Test
  void withinItsPercentageAClientIsNotThrottledButSendingTimeWeighsOnItsNextRequests() {
    RequestQuota quota = withQuota("steady", 1.0);
    RequestContext ctx = context(ApiKeys.METADATA, "steady");
    long small = TimeUnit.MILLISECONDS.toNanos(20);
    MetadataResponse first = metadataResponse();
    assertThat(quota.beforeSend(ctx, RequestQuota.Kind.LIMITED, small, first)).isZero();
    // Serializing and writing are counted but not checked (Kafka's network-thread time).
    quota.afterSend(ctx, RequestQuota.Kind.LIMITED, TimeUnit.MILLISECONDS.toNanos(200), first);
    assertThat(quota.beforeSend(ctx, RequestQuota.Kind.LIMITED, small, metadataResponse()))
        .isPositive();
  }

  @Test
  void exemptTimeIsCountedApartAndNeverThrottles() {
    RequestQuota quota = withQuota("broker", 1.0);
    long huge = TimeUnit.SECONDS.toNanos(5);
    ProduceResponse response = new ProduceResponse(new ProduceResponseData());
    assertThat(
            quota.beforeSend(
                context(ApiKeys.PRODUCE, "broker"), RequestQuota.Kind.EXEMPT, huge, response))
        .isZero();
    assertThat(gauge("kafka.Request.exempt.request.time", null)).isGreaterThan(10.0);
    assertThat(meters.find("kafka.Request.request.time").tag("client-id", "broker").gauge())
        .isNull();

    // As Kafka's handleError: a cluster action refused for lack of authorization is throttled.
    WriteTxnMarkersResponse refused =
        new WriteTxnMarkersResponse(
            Map.of(
                1L,
                Map.of(
                    new org.apache.kafka.common.TopicPartition("t", 0),
                    Errors.CLUSTER_AUTHORIZATION_FAILED)));
    assertThat(
            quota.beforeSend(
                context(ApiKeys.WRITE_TXN_MARKERS, "broker"),
                RequestQuota.Kind.EXEMPT,
                huge,
                refused))
        .isEqualTo(1000);
  }

  @Test
  void theLargerOfTheByteRateAndRequestThrottlesIsApplied() {
    RequestQuota quota = withQuota("both", 1.0);
    ProduceResponse response =
        new ProduceResponse(new ProduceResponseData().setThrottleTimeMs(4000));
    assertThat(
            quota.beforeSend(
                context(ApiKeys.PRODUCE, "both"),
                RequestQuota.Kind.LIMITED,
                TimeUnit.SECONDS.toNanos(1),
                response))
        .isEqualTo(4000);
    assertThat(response.throttleTimeMs()).isEqualTo(4000);
  }
}
