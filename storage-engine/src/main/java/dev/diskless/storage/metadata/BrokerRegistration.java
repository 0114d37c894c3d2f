package dev.diskless.storage.metadata;

/**
 * The node id a broker leased and the epoch of that lease; the epoch grows each time the id changes
 * hands.
 */
public record BrokerRegistration(int nodeId, long brokerEpoch) {}
