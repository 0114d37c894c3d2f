package dev.diskless.broker;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.Controller;
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
import dev.diskless.storage.metadata.ControllerLease;
import dev.diskless.storage.metadata.LeaderEpochs;
import dev.diskless.storage.metadata.LeaseKeeper;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.PartitionMoves;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
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
  private final Controller controller;
  private final Duration drainTimeout;
  private final PartitionOwnership ownership;
  private final OpsServer ops;
  private volatile boolean closing;

  private Broker(BrokerConfig config, StorageMetrics metrics) throws Exception {
    drainTimeout = config.drainTimeout();
    metadata = MetadataStore.open(config.storage().metadata());
    objectStore = new S3ObjectStore(config.storage().objectStore(), metrics);
    AtomicReference<RequestDispatcher> dispatcher = new AtomicReference<>();
    server =
        new KafkaServer(
            config.listenHost(),
            config.listenPort(),
            config.maxFrameBytes(),
            config.queuedMaxRequestBytes(),
            metrics.registry(),
            dispatcher::get);
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
    PartitionMoves moves = new PartitionMoves(metadata);
    ControllerLease controllerLease = new ControllerLease(metadata);
    view = new ClusterView(topics, ownership, registry, moves, controllerLease);
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
    groups =
        GroupCoordination.start(
            nodeId, offsetsTopic, engine, view, config.groupCoordinator(), metrics.registry());
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
                moves,
                new LeaderEpochs(metadata),
                waiters,
                groups,
                metrics.registry(),
                config.partitionLimits())));
    sync =
        new OwnershipSync(
                nodeId,
                view,
                controller =
                    new Controller(nodeId, controllerLease, ownership, moves, config.lease()),
                moves,
                engine)
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

  /**
   * Hands every owned partition to the least-loaded other live broker (or, with none left, back to
   * nobody), all at once, each flushed and committed first; stops waiting at {@code deadline},
   * leaving the rest to failover.
   */
  private void handOverEverything(long deadline) {
    ClusterView.Snapshot snapshot;
    try {
      snapshot = view.refresh().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      snapshot = view.current();
    }
    Map<Integer, Integer> load = new HashMap<>(snapshot.ownedByTargets());
    load.remove(registration.nodeId());
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (TopicPartitionId tp : engine.logs().ownedPartitions()) {
      OptionalInt target = ClusterView.Snapshot.leastLoaded(load);
      target.ifPresent(t -> load.merge(t, 1, Integer::sum));
      CompletableFuture<?> moved =
          target.isPresent()
              ? engine.logs().handOver(tp, target.getAsInt())
              : engine
                  .logs()
                  .release(tp)
                  .thenCompose(
                      epoch ->
                          epoch.isEmpty()
                              ? CompletableFuture.completedFuture(null)
                              : ownership.transfer(
                                  tp,
                                  OptionalInt.of(registration.nodeId()),
                                  epoch.getAsInt(),
                                  OptionalInt.empty(),
                                  true));
      all.add(
          moved.whenComplete(
              (m, t) -> {
                if (t != null) {
                  LOG.warn("partition={} not handed over cleanly: {}", tp, t.toString());
                }
              }));
    }
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      LOG.info("node={} handed over {} partitions", registration.nodeId(), all.size());
    } catch (java.util.concurrent.TimeoutException e) {
      LOG.warn(
          "node={} drain timed out after {}; the rest fail over",
          registration.nodeId(),
          drainTimeout);
    } catch (Exception e) {
      LOG.warn("node={} drain incomplete: {}", registration.nodeId(), e.toString());
    }
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
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    // Draining: the controller sends nothing more here and moves what is left elsewhere.
    registry.markDraining(registration).exceptionally(t -> null).join();
    sync.close();
    controller.resign();
    // Group members move to the next coordinator; its writes have all been answered.
    groups.close();
    handOverEverything(deadline);
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
