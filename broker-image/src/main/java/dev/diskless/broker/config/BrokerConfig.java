package dev.diskless.broker.config;

import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.config.BrokerSettingsSchema;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.PartitionLimits;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a broker is started with. The operator renders it; the playground builds it in code.
 *
 * @param instanceId unique per process (the pod name); a restarted process gets a new node id lease
 * @param listenPort 0 picks a free port
 * @param advertisedHost what clients are told to connect to (the pod IP)
 * @param lease how long a registration lasts without renewal; failover of this broker's partitions
 *     starts after it
 * @param httpPort port of the operations endpoint (/metrics, /healthz, /readyz); 0 picks a free
 *     port, -1 disables it
 * @param groupCoordinator Apache Kafka group and transaction coordinator properties, by their Kafka
 *     names (e.g. {@code group.initial.rebalance.delay.ms}, {@code offsets.topic.num.partitions},
 *     {@code transaction.max.timeout.ms})
 * @param drainTimeout how long a clean shutdown (SIGTERM) may take to hand its partitions over;
 *     what is left after it is released to failover. Keep it below the pod's termination grace
 *     period.
 * @param rejoinTimeout how long a broker that lost its lease (a pause or a metadata outage
 *     outlasted it) keeps trying to register again, or goes without renewing it, before it stops
 *     and its process exits non-zero
 * @param partitionLimits most partitions per topic and per cluster that client requests
 *     (CreateTopics, CreatePartitions, automatic creation) may reach
 * @param queuedMaxRequestBytes request bytes all connections together may hold, read or being read
 *     (Kafka's {@code queued.max.request.bytes}); a connection whose next request does not fit is
 *     not read until completed requests free memory
 * @param security the listener's security protocol and SASL mechanisms
 * @param replicaTailPoll how often this broker, as a read replica, polls the metadata store for the
 *     high watermarks of partitions that long-polling fetches wait on
 */
public record BrokerConfig(
    String instanceId,
    String listenHost,
    int listenPort,
    String advertisedHost,
    Optional<String> rack,
    String clusterId,
    Duration lease,
    int maxFrameBytes,
    StorageConfig storage,
    int httpPort,
    Map<String, String> groupCoordinator,
    Duration drainTimeout,
    Duration rejoinTimeout,
    PartitionLimits partitionLimits,
    long queuedMaxRequestBytes,
    Duration replicaTailPoll,
    SecurityConfig security) {

  /** The default rejoin timeout: long enough to ride out a metadata failover or restart. */
  public static final Duration DEFAULT_REJOIN_TIMEOUT =
      Duration.ofMillis(BrokerSettingsSchema.LEASE_REJOIN_TIMEOUT_MS.defaultValue().orElseThrow());

  /** The defaults of the broker settings contract. */
  public static final PartitionLimits DEFAULT_PARTITION_LIMITS =
      new PartitionLimits(
          BrokerSettingsSchema.MAX_PARTITIONS_PER_TOPIC.defaultValue().orElseThrow(),
          BrokerSettingsSchema.MAX_PARTITIONS_PER_CLUSTER.defaultValue().orElseThrow());

  public static final long DEFAULT_QUEUED_MAX_REQUEST_BYTES =
      BrokerSettingsSchema.QUEUED_MAX_REQUEST_BYTES.defaultValue().orElseThrow();

  public static final Duration DEFAULT_REPLICA_TAIL_POLL =
      Duration.ofMillis(BrokerSettingsSchema.REPLICA_TAIL_POLL_MS.defaultValue().orElseThrow());

  public BrokerConfig {
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(rejoinTimeout, "rejoinTimeout");
    Objects.requireNonNull(partitionLimits, "partitionLimits");
    Objects.requireNonNull(replicaTailPoll, "replicaTailPoll");
    Objects.requireNonNull(security, "security");
    groupCoordinator = Map.copyOf(groupCoordinator);
    if (queuedMaxRequestBytes < 1) {
      throw new IllegalArgumentException(
          "queued.max.request.bytes must be positive, got " + queuedMaxRequestBytes);
    }
  }

  /** A broker with the default rejoin timeout, partition limits and request memory. */
  public BrokerConfig(
      String instanceId,
      String listenHost,
      int listenPort,
      String advertisedHost,
      Optional<String> rack,
      String clusterId,
      Duration lease,
      int maxFrameBytes,
      StorageConfig storage,
      int httpPort,
      Map<String, String> groupCoordinator,
      Duration drainTimeout) {
    this(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        rack,
        clusterId,
        lease,
        maxFrameBytes,
        storage,
        httpPort,
        groupCoordinator,
        drainTimeout,
        DEFAULT_REJOIN_TIMEOUT,
        DEFAULT_PARTITION_LIMITS,
        Math.max(DEFAULT_QUEUED_MAX_REQUEST_BYTES, maxFrameBytes),
        DEFAULT_REPLICA_TAIL_POLL,
        SecurityConfig.PLAINTEXT);
  }

  /** The same broker with other partition limits and request memory. */
  public BrokerConfig withLimits(PartitionLimits partitions, long queuedMaxRequestBytes) {
    return new BrokerConfig(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        rack,
        clusterId,
        lease,
        maxFrameBytes,
        storage,
        httpPort,
        groupCoordinator,
        drainTimeout,
        rejoinTimeout,
        partitions,
        queuedMaxRequestBytes,
        replicaTailPoll,
        security);
  }

  /** The same broker with different group coordinator properties. */
  public BrokerConfig withGroupCoordinator(Map<String, String> properties) {
    return new BrokerConfig(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        rack,
        clusterId,
        lease,
        maxFrameBytes,
        storage,
        httpPort,
        properties,
        drainTimeout,
        rejoinTimeout,
        partitionLimits,
        queuedMaxRequestBytes,
        replicaTailPoll,
        security);
  }

  /** The same broker with a different read-replica tail poll interval. */
  public BrokerConfig withReplicaTailPoll(Duration interval) {
    return new BrokerConfig(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        rack,
        clusterId,
        lease,
        maxFrameBytes,
        storage,
        httpPort,
        groupCoordinator,
        drainTimeout,
        rejoinTimeout,
        partitionLimits,
        queuedMaxRequestBytes,
        interval,
        security);
  }

  /** The same broker in another zone (rack). */
  public BrokerConfig withRack(Optional<String> zone) {
    return new BrokerConfig(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        zone,
        clusterId,
        lease,
        maxFrameBytes,
        storage,
        httpPort,
        groupCoordinator,
        drainTimeout,
        rejoinTimeout,
        partitionLimits,
        queuedMaxRequestBytes,
        replicaTailPoll,
        security);
  }

  /** The same broker with a different lease. */
  public BrokerConfig withLease(Duration newLease) {
    return new BrokerConfig(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        rack,
        clusterId,
        newLease,
        maxFrameBytes,
        storage,
        httpPort,
        groupCoordinator,
        drainTimeout,
        rejoinTimeout,
        partitionLimits,
        queuedMaxRequestBytes,
        replicaTailPoll,
        security);
  }

  /** The same broker with a different rejoin timeout. */
  public BrokerConfig withRejoinTimeout(Duration timeout) {
    return new BrokerConfig(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        rack,
        clusterId,
        lease,
        maxFrameBytes,
        storage,
        httpPort,
        groupCoordinator,
        drainTimeout,
        timeout,
        partitionLimits,
        queuedMaxRequestBytes,
        replicaTailPoll,
        security);
  }

  /** The same broker with another listener security (e.g. SASL). */
  public BrokerConfig withSecurity(SecurityConfig newSecurity) {
    return new BrokerConfig(
        instanceId,
        listenHost,
        listenPort,
        advertisedHost,
        rack,
        clusterId,
        lease,
        maxFrameBytes,
        storage,
        httpPort,
        groupCoordinator,
        drainTimeout,
        rejoinTimeout,
        partitionLimits,
        queuedMaxRequestBytes,
        replicaTailPoll,
        newSecurity);
  }

  public static BrokerConfig local(String instanceId, StorageConfig storage) {
    return new BrokerConfig(
        instanceId,
        "127.0.0.1",
        0,
        "127.0.0.1",
        Optional.empty(),
        "diskless-local",
        Duration.ofSeconds(10),
        100 << 20,
        storage,
        0,
        Map.of(),
        Duration.ofSeconds(30));
  }
}
