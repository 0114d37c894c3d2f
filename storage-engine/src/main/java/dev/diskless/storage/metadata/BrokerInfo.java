package dev.diskless.storage.metadata;

import java.time.Instant;
import java.util.Optional;

/**
 * A registered broker and how long its lease still runs; {@code draining} while it shuts down
 * cleanly (still serving what it owns, but no target for new ownership).
 */
public record BrokerInfo(
    int nodeId,
    long brokerEpoch,
    String host,
    int port,
    Optional<String> rack,
    Instant leaseExpiresAt,
    boolean draining) {}
