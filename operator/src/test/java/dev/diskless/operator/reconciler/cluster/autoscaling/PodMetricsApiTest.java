package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetricsList;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Reading PodMetrics as metrics-server serves them, and how rarely discovery is asked. */
class PodMetricsApiTest {

  /** A metrics.k8s.io/v1beta1 PodMetricsList as metrics-server returns it. */
  private static final String LIST =
      """
      {"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},
       "items":[
        {"metadata":{"name":"orders-broker-a-1","namespace":"ns"},
         "timestamp":"2026-01-01T00:00:00Z","window":"15.004s",
         "containers":[
           {"name":"broker","usage":{"cpu":"1250m","memory":"812Mi"}},
           {"name":"istio-proxy","usage":{"cpu":"300m","memory":"60Mi"}}]},
        {"metadata":{"name":"orders-broker-b-2","namespace":"ns"},
         "timestamp":"2026-01-01T00:00:00Z","window":"15.004s",
         "containers":[{"name":"broker","usage":{"cpu":"250000000n","memory":"700Mi"}}]},
        {"metadata":{"name":"orders-broker-c-3","namespace":"ns"},
         "timestamp":"2026-01-01T00:00:00Z","window":"15.004s","containers":[]}]}
      """;

  @Test
  void theBrokerContainersUsageIsReadInCores() {
    PodMetricsList list = new KubernetesSerialization().unmarshal(LIST, PodMetricsList.class);
    // The sidecar does not count; a pod without the broker container is left out.
    assertThat(PodMetricsApi.cores(list))
        .containsExactlyEntriesOf(
            new java.util.TreeMap<>(
                java.util.Map.of("orders-broker-a-1", 1.25, "orders-broker-b-2", 0.25)));
    assertThat(PodMetricsApi.cores(null)).isEmpty();
  }

  private static final class MovableClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void discoveryIsAskedOncePerRecheckAndAFailureIsNotServed() {
    MovableClock clock = new MovableClock();
    AtomicInteger asked = new AtomicInteger();
    boolean[] answer = {false};
    PodMetricsApi api =
        new PodMetricsApi(
            null,
            () -> {
              asked.incrementAndGet();
              if (asked.get() == 3) {
                throw new KubernetesClientException("discovery unavailable");
              }
              return answer[0];
            },
            clock,
            Duration.ofMinutes(10));
    assertThat(api.served()).isFalse();
    answer[0] = true;
    clock.now = clock.now.plus(Duration.ofMinutes(9));
    assertThat(api.served()).as("cached").isFalse();
    assertThat(asked).hasValue(1);
    clock.now = clock.now.plus(Duration.ofMinutes(1));
    assertThat(api.served()).isTrue();
    assertThat(api.lastKnownServed()).isTrue();
    clock.now = clock.now.plus(Duration.ofMinutes(10));
    assertThat(api.served()).as("discovery failed").isFalse();
    assertThat(asked).hasValue(3);
  }
}
