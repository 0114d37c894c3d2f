package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.testing.StorageHarness;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Registration states on a real PostgreSQL: a broker is live from registration on, serving only
 * once it says it has started, and starting again at every new registration.
 */
class BrokerRegistryIT {

  private StorageHarness h;

  @BeforeEach
  void start() {
    h = StorageHarness.start();
  }

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void aBrokerServesOnlyOnceItSaysItHasStartedAndAgainAfterEachRegistration() {
    BrokerRegistration first = h.register("a");
    BrokerInfo starting = only(h.brokers.live().join());
    assertThat(starting.serving()).isFalse();
    assertThat(starting.acceptsPartitions()).isFalse();

    h.brokers.markServing(first).join();
    BrokerInfo serving = only(h.brokers.live().join());
    assertThat(serving.serving()).isTrue();
    assertThat(serving.acceptsPartitions()).isTrue();

    // The same instance registering again (a restarted container) starts over.
    BrokerRegistration second = h.register("a");
    assertThat(second.nodeId()).isEqualTo(first.nodeId());
    assertThat(only(h.brokers.live().join()).serving()).isFalse();
    // A mark by the earlier registration changes nothing.
    h.brokers.markServing(first).join();
    assertThat(only(h.brokers.live().join()).serving()).isFalse();
    h.brokers.markServing(second).join();
    h.brokers.markDraining(second).join();
    BrokerInfo draining = only(h.brokers.live().join());
    assertThat(draining.serving()).isTrue();
    assertThat(draining.acceptsPartitions()).isFalse();
  }

  @Test
  void eachListenerHasItsOwnEndpointAndTheFirstIsTheInterBrokerOne() {
    List<BrokerEndpoint> endpoints =
        List.of(
            new BrokerEndpoint("internal", "10.0.0.5", 9092),
            new BrokerEndpoint("EXTERNAL", "broker-0.example.com", 31094),
            new BrokerEndpoint("V6", "fd00::1", 9096));
    h.brokers.register("a", endpoints, Optional.empty(), Duration.ofSeconds(10)).join();
    BrokerInfo b = only(h.brokers.live().join());
    assertThat(b.host()).isEqualTo("10.0.0.5");
    assertThat(b.port()).isEqualTo(9092);
    assertThat(b.endpoints()).containsExactlyElementsOf(endpoints);
    assertThat(b.endpoint("external"))
        .contains(new BrokerEndpoint("EXTERNAL", "broker-0.example.com", 31094));
    assertThat(b.endpoint("V6").orElseThrow().toString()).isEqualTo("V6://[fd00::1]:9096");
    assertThat(b.endpoint("REPLICATION")).isEmpty();
  }

  private static BrokerInfo only(List<BrokerInfo> live) {
    assertThat(live).hasSize(1);
    return live.get(0);
  }
}
