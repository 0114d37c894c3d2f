package dev.diskless.storage.metadata;

import java.time.Instant;
import java.util.Optional;

/**
 * A registered broker and when its lease ends (read as the time left by the database's clock, then
 * expressed on the reader's clock); {@code draining} while it shuts down cleanly (still serving
 * what it owns, but no target for new ownership); {@code serving} once it has started (before that
 * it is live, so what it owns is not orphaned, but it is no target for new ownership and clients
 * are not told about it).
 */
public record BrokerInfo(
    int nodeId,
    long brokerEpoch,
    String host,
    int port,
    Optional<String> rack,
    Instant leaseExpiresAt,
    boolean draining,
    boolean serving) {

  /** Whether it may be given partitions: started and not draining. */
  public boolean acceptsPartitions() {
    return serving && !draining;
  }
}
