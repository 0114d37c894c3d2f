package dev.diskless.broker.config;

import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.config.BrokerSettingsSchema;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.PartitionLimits;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a broker is started with. The operator renders it; the playground builds it in code.
 *
 * @param instanceId unique per process (the pod name); a restarted process gets a new node id lease
 * @param listeners the Kafka listeners, each with its addresses and security (at least one)
 * @param interBrokerListener the name of the listener other brokers connect to
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
 * @param settings the settings as the broker was started with them (empty when built in code)
 * @param consumerLagInterval how often the broker measures the lag of the consumer groups it
 *     coordinates
 * @param replicaTailPoll how often this broker, as a read replica, polls the metadata store for the
 *     high watermarks of partitions that long-polling fetches wait on
 */
public record BrokerConfig(
    String instanceId,
    List<ListenerConfig> listeners,
    String interBrokerListener,
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
    Duration consumerLagInterval,
    List<StaticSetting> settings) {

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

  public static final Duration DEFAULT_CONSUMER_LAG_INTERVAL =
      Duration.ofMillis(BrokerSettingsSchema.CONSUMER_LAG_INTERVAL_MS.defaultValue().orElseThrow());

  public BrokerConfig {
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(rejoinTimeout, "rejoinTimeout");
    Objects.requireNonNull(partitionLimits, "partitionLimits");
    Objects.requireNonNull(replicaTailPoll, "replicaTailPoll");
    if (consumerLagInterval.toMillis() < 1) {
      throw new IllegalArgumentException(
          "consumer.lag.interval.ms must be at least 1, got " + consumerLagInterval.toMillis());
    }
    listeners = List.copyOf(listeners);
    settings = List.copyOf(settings);
    interBrokerListener = interBrokerListener.toUpperCase(Locale.ROOT);
    groupCoordinator = Map.copyOf(groupCoordinator);
    if (queuedMaxRequestBytes < 1) {
      throw new IllegalArgumentException(
          "queued.max.request.bytes must be positive, got " + queuedMaxRequestBytes);
    }
    if (listeners.isEmpty()) {
      throw new IllegalArgumentException("listeners must name at least one listener");
    }
    Set<String> names = new HashSet<>();
    Set<Integer> ports = new HashSet<>();
    for (ListenerConfig l : listeners) {
      if (!names.add(l.name())) {
        throw new IllegalArgumentException("listeners: listener " + l.name() + " is named twice");
      }
      if (l.port() != 0 && !ports.add(l.port())) {
        throw new IllegalArgumentException(
            "listeners: port " + l.port() + " is used by two listeners");
      }
    }
    if (!names.contains(interBrokerListener)) {
      throw new IllegalArgumentException(
          "inter.broker.listener.name "
              + interBrokerListener
              + " is not one of the listeners "
              + names);
    }
    String interBroker = interBrokerListener;
    SecurityConfig interBrokerSecurity =
        listeners.stream()
            .filter(l -> l.name().equals(interBroker))
            .findFirst()
            .orElseThrow()
            .security();
    if (interBrokerSecurity.sasl() && interBrokerSecurity.bootstrapUser().isEmpty()) {
      throw new IllegalArgumentException(
          "the inter-broker listener "
              + interBroker
              + " uses "
              + interBrokerSecurity.protocol()
              + ": brokers log in to each other as sasl.bootstrap.user, which is not set");
    }
  }

  /** A broker with one listener (named after its security protocol). */
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
      Duration drainTimeout,
      Duration rejoinTimeout,
      PartitionLimits partitionLimits,
      long queuedMaxRequestBytes,
      Duration replicaTailPoll,
      SecurityConfig security) {
    this(
        instanceId,
        List.of(ListenerConfig.single(listenHost, listenPort, advertisedHost, security)),
        security.protocol().name,
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
        DEFAULT_CONSUMER_LAG_INTERVAL,
        List.of());
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

  /** The listener other brokers connect to. */
  public ListenerConfig interBroker() {
    return listeners.stream()
        .filter(l -> l.name().equals(interBrokerListener))
        .findFirst()
        .orElseThrow();
  }

  /** The address the inter-broker listener binds (the operations endpoint binds it too). */
  public String listenHost() {
    return interBroker().host();
  }

  /** The inter-broker listener's advertised host. */
  public String advertisedHost() {
    return interBroker().advertisedHost();
  }

  /**
   * The inter-broker listener's security; its broker-wide parts (bootstrap user, authorization,
   * re-authentication) are the same on every listener.
   */
  public SecurityConfig security() {
    return interBroker().security();
  }

  /** The same broker with other partition limits and request memory. */
  public BrokerConfig withLimits(PartitionLimits partitions, long queuedMaxRequestBytes) {
    return new Builder(this).limits(partitions, queuedMaxRequestBytes).build();
  }

  /** The same broker with different group coordinator properties. */
  public BrokerConfig withGroupCoordinator(Map<String, String> properties) {
    Builder b = new Builder(this);
    b.groupCoordinator = properties;
    return b.build();
  }

  /** The same broker with a different read-replica tail poll interval. */
  public BrokerConfig withReplicaTailPoll(Duration interval) {
    Builder b = new Builder(this);
    b.replicaTailPoll = interval;
    return b.build();
  }

  /** The same broker in another zone (rack). */
  public BrokerConfig withRack(Optional<String> zone) {
    Builder b = new Builder(this);
    b.rack = zone;
    return b.build();
  }

  /** The same broker with a different lease. */
  public BrokerConfig withLease(Duration newLease) {
    Builder b = new Builder(this);
    b.lease = newLease;
    return b.build();
  }

  /** The same broker measuring consumer lag every {@code interval}. */
  public BrokerConfig withConsumerLagInterval(Duration interval) {
    Builder b = new Builder(this);
    b.consumerLagInterval = interval;
    return b.build();
  }

  /** The same broker with a different rejoin timeout. */
  public BrokerConfig withRejoinTimeout(Duration timeout) {
    Builder b = new Builder(this);
    b.rejoinTimeout = timeout;
    return b.build();
  }

  /**
   * The same broker with another security (e.g. SASL) on every listener; a single listener is
   * renamed after its new protocol, as one configured without {@code listeners} would be.
   */
  public BrokerConfig withSecurity(SecurityConfig newSecurity) {
    Builder b = new Builder(this);
    if (listeners.size() == 1) {
      ListenerConfig only = listeners.get(0);
      b.listeners =
          List.of(
              new ListenerConfig(
                  newSecurity.protocol().name,
                  only.host(),
                  only.port(),
                  only.advertisedHost(),
                  only.advertisedPort(),
                  newSecurity));
      b.interBrokerListener = newSecurity.protocol().name;
    } else {
      b.listeners = listeners.stream().map(l -> l.withSecurity(newSecurity)).toList();
    }
    return b.build();
  }

  /** The same broker with other listeners; {@code interBroker} names one of them. */
  public BrokerConfig withListeners(List<ListenerConfig> newListeners, String interBroker) {
    Builder b = new Builder(this);
    b.listeners = newListeners;
    b.interBrokerListener = interBroker;
    return b.build();
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

  /** A copy to change a few fields of; the record's constructor checks the result. */
  private static final class Builder {
    private final BrokerConfig from;
    private List<ListenerConfig> listeners;
    private String interBrokerListener;
    private Optional<String> rack;
    private Duration lease;
    private Map<String, String> groupCoordinator;
    private Duration rejoinTimeout;
    private PartitionLimits partitionLimits;
    private long queuedMaxRequestBytes;
    private Duration replicaTailPoll;
    private Duration consumerLagInterval;

    Builder(BrokerConfig from) {
      this.from = from;
      listeners = from.listeners;
      interBrokerListener = from.interBrokerListener;
      rack = from.rack;
      lease = from.lease;
      groupCoordinator = from.groupCoordinator;
      rejoinTimeout = from.rejoinTimeout;
      partitionLimits = from.partitionLimits;
      queuedMaxRequestBytes = from.queuedMaxRequestBytes;
      replicaTailPoll = from.replicaTailPoll;
      consumerLagInterval = from.consumerLagInterval;
    }

    Builder limits(PartitionLimits partitions, long queued) {
      partitionLimits = partitions;
      queuedMaxRequestBytes = queued;
      return this;
    }

    BrokerConfig build() {
      return new BrokerConfig(
          from.instanceId,
          listeners,
          interBrokerListener,
          rack,
          from.clusterId,
          lease,
          from.maxFrameBytes,
          from.storage,
          from.httpPort,
          groupCoordinator,
          from.drainTimeout,
          rejoinTimeout,
          partitionLimits,
          queuedMaxRequestBytes,
          replicaTailPoll,
          consumerLagInterval,
          from.settings);
    }
  }
}
