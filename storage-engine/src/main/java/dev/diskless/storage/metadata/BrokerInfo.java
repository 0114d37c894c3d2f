package dev.diskless.storage.metadata;

import java.time.Instant;
import java.util.Optional;

/** A registered broker and how long its lease still runs. */
public record BrokerInfo(
    int nodeId,
    long brokerEpoch,
    String host,
    int port,
    Optional<String> rack,
    Instant leaseExpiresAt) {}
