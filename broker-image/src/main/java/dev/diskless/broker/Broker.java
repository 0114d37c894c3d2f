package dev.diskless.broker;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.config.ListenerConfig;
import dev.diskless.broker.network.KafkaServer;
import dev.diskless.broker.ops.OpsServer;
import dev.diskless.broker.security.Authentication;
import dev.diskless.broker.security.BootstrapUser;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.security.TlsContexts;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerEndpoint;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.LeaseRenewal;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.ScramCredentialStore;
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
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker process: binds the Kafka listener and the operations endpoint, connects to the
 * metadata and object stores, and runs a {@link BrokerSession} — a leased node id with the storage
 * engine, ownership, coordination and request handling under it. When the session's lease is lost
 * (a pause or a metadata outage outlasted it) the broker halts that session and registers again
 * under a new epoch, keeping its listener and connections; if it cannot register again within
 * {@link BrokerConfig#rejoinTimeout()} it stops and reports the failure, so that the process exits
 * non-zero. {@link #close()} hands every owned partition over (flushed and committed) so that the
 * next owner need not wait for this broker's lease to expire.
 */
public final class Broker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
  private static final long WATCH_PERIOD_MS = 250;

  private final BrokerConfig config;
  private final MetadataStore metadata;
  private final MetadataStore leaseMetadata;
  private final S3ObjectStore objectStore;
  private final StorageMetrics metrics;
  private final KafkaServer server;
  private final OpsServer ops;
  private final IntConsumer exit;
  private final ScheduledExecutorService supervisor =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("broker-supervisor").daemon().factory());
  private final AtomicBoolean stopped = new AtomicBoolean();
  private volatile BrokerSession session;
  private volatile boolean closing;
  private volatile boolean rejoining;

  /** When the current session last stopped holding its lease; 0 while it holds. */
  private long notHoldingSince;

  private Broker(BrokerConfig config, StorageMetrics metrics, IntConsumer exit) throws Exception {
    this.config = config;
    this.metrics = metrics;
    this.exit = exit;
    metadata = MetadataStore.open(config.storage().metadata());
    KafkaServer listener = null;
    S3ObjectStore objects = null;
    MetadataStore leasePool = null;
    OpsServer opsServer = null;
    try {
      objects = new S3ObjectStore(config.storage().objectStore(), metrics);
      // Renewals must not queue behind the main pool, nor wait out its reconnection backoff.
      leasePool =
          metadata.dedicated(
              "lease", Duration.ofMillis(Math.max(100, config.lease().toMillis() / 4)));
      listener =
          new KafkaServer(
              config.maxFrameBytes(),
              config.queuedMaxRequestBytes(),
              metrics.registry(),
              () -> session == null ? null : session.dispatcher(),
              bindings(config, metadata, metrics));
      session =
          BrokerSession.open(
              new BrokerSession.Resources(
                  config, metadata, leasePool, objects, metrics, endpoints(config, listener)),
              this::leaseLost);
      opsServer =
          config.httpPort() < 0
                  || !(metrics.registry() instanceof PrometheusMeterRegistry prometheus)
              ? null
              : new OpsServer(
                  config.listenHost(),
                  config.httpPort(),
                  prometheus,
                  () -> !stopped.get(),
                  this::ready);
    } catch (Exception | Error e) {
      // Undo what started, in reverse, so that a failed start leaves no threads or ports behind.
      supervisor.shutdownNow();
      if (session != null) {
        session.halt();
      }
      if (listener != null) {
        listener.close();
      }
      if (objects != null) {
        objects.close();
      }
      if (leasePool != null) {
        leasePool.close();
      }
      metadata.close();
      throw e;
    }
    objectStore = objects;
    leaseMetadata = leasePool;
    server = listener;
    ops = opsServer;
    supervisor.scheduleWithFixedDelay(
        this::watch, WATCH_PERIOD_MS, WATCH_PERIOD_MS, TimeUnit.MILLISECONDS);
    LOG.info(
        "broker node={} epoch={} serving on {} (inter-broker listener {})",
        session.registration().nodeId(),
        session.registration().brokerEpoch(),
        BrokerEndpoint.format(endpoints(config, server)),
        config.interBrokerListener());
  }

  private void leaseLost(LeaseRenewal outcome) {
    supervisor.execute(this::watch);
  }

  /**
   * Runs on the supervisor thread only: registers again after a lost lease, and gives up when the
   * lease could not be renewed for longer than the rejoin timeout.
   */
  private void watch() {
    if (closing || stopped.get()) {
      return;
    }
    BrokerSession current = session;
    if (current.lost()) {
      rejoin(current);
      return;
    }
    if (current.holds()) {
      notHoldingSince = 0;
      return;
    }
    long now = System.nanoTime();
    if (notHoldingSince == 0) {
      notHoldingSince = now;
    } else if (now - notHoldingSince > config.rejoinTimeout().toNanos()) {
      fail(
          "node "
              + current.registration().nodeId()
              + " could not renew its lease for "
              + config.rejoinTimeout().toSeconds()
              + " s; is the metadata database reachable?");
    }
  }

  private void rejoin(BrokerSession lost) {
    BrokerRegistration old = lost.registration();
    long start = System.nanoTime();
    rejoining = true;
    LOG.warn(
        "node={} epoch={} registration is over; halting it and registering again",
        old.nodeId(),
        old.brokerEpoch());
    lost.halt();
    long delayMs = 100;
    while (!closing) {
      try {
        BrokerSession next =
            BrokerSession.open(
                new BrokerSession.Resources(
                    config,
                    metadata,
                    leaseMetadata,
                    objectStore,
                    metrics,
                    endpoints(config, server)),
                this::leaseLost);
        session = next;
        rejoining = false;
        notHoldingSince = 0;
        LOG.info(
            "node={} epoch={} registered again (was node {} epoch {}) {} ms after the lease was found lost",
            next.registration().nodeId(),
            next.registration().brokerEpoch(),
            old.nodeId(),
            old.brokerEpoch(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        return;
      } catch (Exception e) {
        if (System.nanoTime() - start > config.rejoinTimeout().toNanos()) {
          fail(
              "node "
                  + old.nodeId()
                  + " could not register again within "
                  + config.rejoinTimeout().toSeconds()
                  + " s: "
                  + e.getMessage());
          return;
        }
        LOG.warn(
            "node={} registering again failed: {}; retrying in {} ms",
            old.nodeId(),
            StorageException.unwrap(e).getMessage(),
            delayMs);
        try {
          Thread.sleep(delayMs);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
        delayMs = Math.min(2_000, delayMs * 2);
      }
    }
  }

  /**
   * The broker cannot serve any more: stop at once, as kill -9 would (nothing acknowledged depends
   * on a clean stop), and exit non-zero so that Kubernetes restarts the process.
   */
  private void fail(String reason) {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    LOG.error("{}; stopping the broker", reason);
    exit.accept(1);
    haltParts();
  }

  /**
   * What to bind for each listener; the bootstrap user's credentials are in place before any SASL
   * listener accepts anyone. SASL listeners share one credential store and one count of failed
   * logins per address.
   */
  private static List<KafkaServer.Binding> bindings(
      BrokerConfig config, MetadataStore metadata, StorageMetrics metrics) throws Exception {
    Authentication shared = null;
    List<KafkaServer.Binding> out = new ArrayList<>();
    try {
      for (ListenerConfig l : config.listeners()) {
        SecurityConfig security = l.security();
        Authentication authentication = null;
        if (security.sasl()) {
          if (shared == null) {
            ScramCredentialStore credentials = new ScramCredentialStore(metadata);
            if (security.bootstrapUser().isPresent()) {
              BootstrapUser.ensure(credentials, security.bootstrapUser().get())
                  .get(30, TimeUnit.SECONDS);
            }
            shared = new Authentication(security, credentials, metrics.registry());
          }
          authentication = shared.forListener(security);
        }
        out.add(
            new KafkaServer.Binding(
                l.listenerName(),
                l.host(),
                l.port(),
                security.protocol(),
                authentication,
                security.tls().map(TlsContexts::new).orElse(null)));
      }
    } catch (Exception | Error e) {
      // The listeners made so far watch their TLS files from a thread of their own: stop them.
      out.stream().map(KafkaServer.Binding::tls).filter(t -> t != null).forEach(TlsContexts::close);
      throw e;
    }
    return out;
  }

  /**
   * What the broker registers: each listener's advertised address (its bound port unless another is
   * advertised), the inter-broker listener's first.
   */
  private static List<BrokerEndpoint> endpoints(BrokerConfig config, KafkaServer server) {
    List<BrokerEndpoint> out = new ArrayList<>();
    for (ListenerConfig l : config.listeners()) {
      BrokerEndpoint e =
          new BrokerEndpoint(
              l.name(),
              l.advertisedHost(),
              l.advertisedPort() == 0 ? server.port(l.name()) : l.advertisedPort());
      if (l.name().equals(config.interBrokerListener())) {
        out.add(0, e);
      } else {
        out.add(e);
      }
    }
    return out;
  }

  /** Starts a broker whose meters are exported in Prometheus format on the operations endpoint. */
  public static Broker start(BrokerConfig config) throws Exception {
    return start(config, code -> {});
  }

  /**
   * As {@link #start(BrokerConfig)}; {@code exit} is called with a non-zero status if the broker
   * stops because it cannot recover (the container entrypoint exits the process with it).
   */
  public static Broker start(BrokerConfig config, IntConsumer exit) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    return new Broker(config, new StorageMetrics(registry), exit);
  }

  /** The operations endpoint's port, or -1 when it is disabled. */
  public int httpPort() {
    return ops == null ? -1 : ops.port();
  }

  public static Broker start(BrokerConfig config, StorageMetrics metrics) throws Exception {
    return new Broker(config, metrics, code -> {});
  }

  /** The port of the first listener. */
  public int port() {
    return server.port(config.listeners().get(0).name());
  }

  /** The port {@code listener} is bound to. */
  public int port(String listener) {
    return server.port(listener.toUpperCase(java.util.Locale.ROOT));
  }

  /** The node id of the current registration (it may change after a lost lease). */
  public int nodeId() {
    return session.registration().nodeId();
  }

  /** The current registration. */
  public BrokerRegistration registration() {
    return session.registration();
  }

  /** Whether the broker holds its lease and serves requests (what /readyz answers). */
  public boolean ready() {
    return !closing && !rejoining && session.holds();
  }

  /** The node ids of the brokers this one currently tells clients about (DescribeCluster). */
  public Set<Integer> servingBrokers() {
    return session.view().current().servingBrokers().stream()
        .map(BrokerInfo::nodeId)
        .collect(Collectors.toUnmodifiableSet());
  }

  public StorageEngine engine() {
    return session.engine();
  }

  /** The partitions of {@code topic} this broker currently serves. */
  public List<TopicPartitionId> ownedPartitions(String topic) {
    StorageEngine engine = session.engine();
    return session
        .view()
        .current()
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
   * is left to expire.
   */
  public void halt() {
    if (stopped.compareAndSet(false, true)) {
      haltParts();
    }
  }

  private void haltParts() {
    closing = true;
    supervisor.shutdownNow();
    if (ops != null) {
      ops.close();
    }
    session.halt();
    server.close();
    objectStore.close();
    leaseMetadata.close();
    metadata.close();
  }

  /**
   * Drains: stops following ownership, hands every partition back committed, deregisters, stops.
   */
  @Override
  public void close() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    closing = true;
    long deadline = System.nanoTime() + config.drainTimeout().toNanos();
    supervisor.shutdownNow();
    try {
      supervisor.awaitTermination(config.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    BrokerSession current = session;
    if (current.lost()) {
      current.halt();
      server.close();
    } else {
      current.drain(deadline, config.drainTimeout(), server::close);
    }
    objectStore.close();
    leaseMetadata.close();
    metadata.close();
    if (ops != null) {
      ops.close();
    }
  }
}
