package dev.diskless.storage.metadata;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A registered broker and when its lease ends (read as the time left by the database's clock, then
 * expressed on the reader's clock); {@code draining} while it shuts down cleanly (still serving
 * what it owns, but no target for new ownership); {@code serving} once it has started (before that
 * it is live, so what it owns is not orphaned, but it is no target for new ownership and clients
 * are not told about it). {@code host} and {@code port} are the inter-broker listener's; {@code
 * endpoints} has one entry per listener (empty for a broker registered before listeners were named:
 * then its one endpoint serves every listener).
 */
public record BrokerInfo(
    int nodeId,
    long brokerEpoch,
    String host,
    int port,
    Optional<String> rack,
    Instant leaseExpiresAt,
    boolean draining,
    boolean serving,
    List<BrokerEndpoint> endpoints) {

  public BrokerInfo {
    endpoints = List.copyOf(endpoints);
  }

  /** A broker with one endpoint for every listener. */
  public BrokerInfo(
      int nodeId,
      long brokerEpoch,
      String host,
      int port,
      Optional<String> rack,
      Instant leaseExpiresAt,
      boolean draining,
      boolean serving) {
    this(nodeId, brokerEpoch, host, port, rack, leaseExpiresAt, draining, serving, List.of());
  }

  /**
   * Where clients of {@code listener} reach this broker; empty when the broker has no such
   * listener.
   */
  public Optional<BrokerEndpoint> endpoint(String listener) {
    if (endpoints.isEmpty()) {
      return Optional.of(new BrokerEndpoint(listener, host, port));
    }
    return endpoints.stream().filter(e -> e.listener().equalsIgnoreCase(listener)).findFirst();
  }

  /** Whether it may be given partitions: started and not draining. */
  public boolean acceptsPartitions() {
    return serving && !draining;
  }
}
