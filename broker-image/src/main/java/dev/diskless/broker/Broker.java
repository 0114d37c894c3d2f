package dev.diskless.broker;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.OwnershipSync;
import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.group.GroupCoordination;
import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.broker.handler.BrokerContext;
import dev.diskless.broker.handler.HighWatermarkWaiters;
import dev.diskless.broker.handler.RequestDispatcher;
import dev.diskless.broker.handler.TopicAssigner;
import dev.diskless.broker.network.KafkaServer;
import dev.diskless.broker.ops.OpsServer;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.LeaseKeeper;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.ProducerIds;
import dev.diskless.storage.metadata.TopicStore;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.S3ObjectStore;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker process: binds the Kafka listener, leases a node id, opens the storage engine under
 * that lease, follows partition ownership, and serves requests. {@link #close()} hands every owned
 * partition back (flushed and committed) so that the next owner need not wait for this broker's
 * lease to expire.
 */
public final class Broker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Broker.class);

  private final MetadataStore metadata;
  private final S3ObjectStore objectStore;
  private final KafkaServer server;
  private final BrokerRegistry registry;
  private final BrokerRegistration registration;
  private final LeaseKeeper lease;
  private final StorageEngine engine;
  private final OwnershipSync sync;
  private final ClusterView view;
  private final GroupCoordination groups;
  private final PartitionOwnership ownership;
  private final OpsServer ops;
  private volatile boolean closing;

  private Broker(BrokerConfig config, StorageMetrics metrics) throws Exception {
    metadata = MetadataStore.open(config.storage().metadata());
    objectStore = new S3ObjectStore(config.storage().objectStore(), metrics);
    AtomicReference<RequestDispatcher> dispatcher = new AtomicReference<>();
    server =
        new KafkaServer(
            config.listenHost(), config.listenPort(), config.maxFrameBytes(), dispatcher::get);
    registry = new BrokerRegistry(metadata);
    long sent = System.nanoTime();
    registration =
        registry
            .register(
                config.instanceId(),
                config.advertisedHost(),
                server.port(),
                config.rack(),
                config.lease())
            .join();
    lease =
        new LeaseKeeper(registry, registration, config.lease(), sent, 0.01, Duration.ofMillis(200))
            .start();
    ownership = new PartitionOwnership(metadata);
    TopicStore topics = new TopicStore(metadata);
    view = new ClusterView(topics, ownership, registry);
    int nodeId = registration.nodeId();
    engine =
        StorageEngine.withLease(
            config.storage(),
            registration,
            lease,
            metadata,
            objectStore,
            metrics,
            () -> {
              var brokers = view.current().brokers();
              return !brokers.isEmpty() && brokers.get(0).nodeId() == nodeId;
            });
    HighWatermarkWaiters waiters = new HighWatermarkWaiters();
    engine.logs().addHighWatermarkListener(waiters::advanced);
    OffsetsTopic offsetsTopic =
        OffsetsTopic.ensure(
                topics,
                Integer.parseInt(
                    config.groupCoordinator().getOrDefault("offsets.topic.num.partitions", "50")))
            .join();
    view.refresh().join();
    groups = GroupCoordination.start(nodeId, offsetsTopic, engine, view, config.groupCoordinator());
    dispatcher.set(
        new RequestDispatcher(
            new BrokerContext(
                nodeId,
                config.clusterId(),
                engine,
                view,
                topics,
                new ProducerIds(metadata),
                new TopicAssigner(ownership, view),
                waiters,
                groups,
                metrics.registry())));
    sync =
        new OwnershipSync(nodeId, view, ownership, engine)
            .onOwnedChanged(groups::reconcile)
            .start(300);
    engine.maintenance().start();
    ops =
        config.httpPort() < 0 || !(metrics.registry() instanceof PrometheusMeterRegistry prometheus)
            ? null
            : new OpsServer(
                config.listenHost(),
                config.httpPort(),
                prometheus,
                lease::holds,
                () -> lease.holds() && !closing);
    LOG.info(
        "broker node={} epoch={} serving on {}:{}",
        nodeId,
        registration.brokerEpoch(),
        config.advertisedHost(),
        server.port());
  }

  /** Starts a broker whose meters are exported in Prometheus format on the operations endpoint. */
  public static Broker start(BrokerConfig config) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    return new Broker(config, new StorageMetrics(registry));
  }

  /** The operations endpoint's port, or -1 when it is disabled. */
  public int httpPort() {
    return ops == null ? -1 : ops.port();
  }

  public static Broker start(BrokerConfig config, StorageMetrics metrics) throws Exception {
    return new Broker(config, metrics);
  }

  public int port() {
    return server.port();
  }

  public int nodeId() {
    return registration.nodeId();
  }

  public StorageEngine engine() {
    return engine;
  }

  /** The partitions of {@code topic} this broker currently serves. */
  public List<TopicPartitionId> ownedPartitions(String topic) {
    return view.current()
        .topic(topic)
        .map(
            t ->
                engine.logs().ownedPartitions().stream()
                    .filter(tp -> tp.topicId().equals(t.topicId()))
                    .sorted()
                    .toList())
        .orElse(List.of());
  }

  /**
   * Stops at once, as kill -9 would: connections drop, nothing is flushed or handed back, the lease
   * is left to expire. Also what a broker must do when it finds its lease lost.
   */
  public void halt() {
    closing = true;
    if (ops != null) {
      ops.close();
    }
    sync.close();
    groups.close();
    lease.close();
    server.close();
    engine.halt();
    objectStore.close();
    metadata.close();
  }

  /**
   * Drains: stops following ownership, hands every partition back committed, deregisters, stops.
   */
  @Override
  public void close() {
    closing = true;
    sync.close();
    // Group members move to the next coordinator; its writes have all been answered.
    groups.close();
    for (TopicPartitionId tp : engine.logs().ownedPartitions()) {
      try {
        OptionalInt epoch = engine.logs().release(tp).get(30, TimeUnit.SECONDS);
        if (epoch.isPresent()) {
          ownership
              .transfer(
                  tp,
                  OptionalInt.of(registration.nodeId()),
                  epoch.getAsInt(),
                  OptionalInt.empty(),
                  true)
              .join();
        }
      } catch (Exception e) {
        LOG.warn("partition={} not handed back cleanly: {}", tp, e.toString());
      }
    }
    server.close();
    engine.close();
    lease.close();
    registry.deregister(registration).exceptionally(t -> null).join();
    objectStore.close();
    metadata.close();
    if (ops != null) {
      ops.close();
    }
  }
}
