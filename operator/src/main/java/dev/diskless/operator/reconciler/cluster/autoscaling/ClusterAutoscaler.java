package dev.diskless.operator.reconciler.cluster.autoscaling;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Samples the brokers of every autoscaled cluster on its own thread, never the reconcile thread:
 * each round (a {@link BrokerSampler}) reads each broker pod's CPU-time counter from its /metrics
 * and whether anything is still moving, and asks the {@link ScaleDecider}. When the count changes
 * it asks for a reconcile, which writes the count into the status; the status drives the
 * Deployment. What it keeps is in memory and rebuilt after a restart (the count itself is in the
 * status, so a restart never changes it).
 */
@ApplicationScoped
public class ClusterAutoscaler {

  private static final Logger LOG = Logger.getLogger(ClusterAutoscaler.class);

  /** What the status reports of one cluster's autoscaler. */
  public record Snapshot(
      Optional<CpuLoad> load,
      Optional<CpuSource> cpuSource,
      int desiredBrokers,
      Optional<Scaled> lastScale) {

    /** Without a source: what a test or a status without samples has. */
    public Snapshot(Optional<CpuLoad> load, int desiredBrokers, Optional<Scaled> lastScale) {
      this(load, Optional.empty(), desiredBrokers, lastScale);
    }
  }

  /** A change of the broker count: when, and the decision. */
  public record Scaled(Instant at, ScaleDecision decision) {}

  private final BrokerSampler sampler;
  private final Clock clock;
  private final Duration interval;
  private final Duration cpuWindow;
  private final ScaleDecider decider;
  private final AutoscalerMetrics metrics;
  private final Map<ResourceID, Tracked> clusters = new ConcurrentHashMap<>();
  private volatile Consumer<ResourceID> onScale = id -> {};
  private ScheduledExecutorService executor;

  @Inject
  public ClusterAutoscaler(
      KubernetesClient client,
      MeterRegistry meters,
      @ConfigProperty(name = "diskless.operator.autoscaling.sample-interval", defaultValue = "15s")
          Duration interval,
      @ConfigProperty(name = "diskless.operator.autoscaling.cpu-window", defaultValue = "60s")
          Duration cpuWindow,
      @ConfigProperty(
              name = "diskless.operator.autoscaling.metrics-api-recheck",
              defaultValue = "10m")
          Duration metricsApiRecheck) {
    this.clock = Clock.systemUTC();
    PodMetricsApi podMetrics = new PodMetricsApi(client, clock, metricsApiRecheck);
    this.sampler = new BrokerSampler(client, podMetrics, clock);
    this.interval = interval;
    this.cpuWindow = cpuWindow;
    this.decider = new ScaleDecider(clock);
    this.metrics = new AutoscalerMetrics(meters, podMetrics);
  }

  /** Called with the cluster whenever the broker count changes, to reconcile it. */
  public void onScale(Consumer<ResourceID> trigger) {
    this.onScale = trigger;
  }

  /**
   * Starts or keeps sampling the cluster (autoscaling enabled) and returns what to report. A new
   * cluster or a changed spec is sampled at once, so that changed bounds apply without waiting.
   */
  public Snapshot track(DisklessKafkaCluster cluster) {
    ResourceID id = ResourceID.fromResource(cluster);
    Tracked t =
        clusters.computeIfAbsent(
            id,
            k -> {
              Tracked n = new Tracked(cluster, new CpuCounterWindow(cpuWindow));
              n.desired = BrokerCount.desired(cluster);
              n.lastScale = fromStatus(cluster.getStatus());
              metrics.register(k, n);
              return n;
            });
    Long before = t.cluster.getMetadata().getGeneration();
    t.cluster = cluster;
    if (t.rounds == 0 || !java.util.Objects.equals(before, cluster.getMetadata().getGeneration())) {
      executor().execute(() -> sample(id));
    }
    CpuSample cpu = t.cpu;
    return new Snapshot(cpu.load(), cpu.source(), t.desired, Optional.ofNullable(t.lastScaled));
  }

  /** Stops sampling the cluster (autoscaling disabled, or the cluster deleted). */
  public void forget(ResourceID id) {
    if (clusters.remove(id) != null) {
      metrics.remove(id);
    }
  }

  private synchronized ScheduledExecutorService executor() {
    if (executor == null) {
      executor =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "diskless-autoscaler");
                t.setDaemon(true);
                return t;
              });
      executor.scheduleWithFixedDelay(
          this::sampleAll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }
    return executor;
  }

  @PreDestroy
  synchronized void stop() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  private void sampleAll() {
    for (ResourceID id : List.copyOf(clusters.keySet())) {
      sample(id);
    }
  }

  /** One round for one cluster; failures are logged, the next round tries again. */
  private void sample(ResourceID id) {
    Tracked t = clusters.get(id);
    if (t == null) {
      return;
    }
    try {
      round(id, t);
    } catch (RuntimeException e) {
      LOG.warnf(
          "cluster=%s/%s autoscaler round failed: %s",
          id.getNamespace().orElse(""), id.getName(), e.getMessage());
    }
  }

  private void round(ResourceID id, Tracked t) {
    DisklessKafkaCluster cluster = t.cluster;
    BrokerSampler.Observation seen = sampler.sample(cluster, t.window, t.desired);
    ScaleDecision decision =
        decider.decide(
            new ScaleDecider.Inputs(
                ScalingPolicy.of(cluster.getSpec().autoscaling),
                t.desired,
                seen.cpu().load(),
                seen.movesPending(),
                Optional.ofNullable(t.lastScale)),
            t.history);
    t.cpu = seen.cpu();
    t.rounds++;
    String ns = id.getNamespace().orElse("");
    if (!decision.scales()) {
      LOG.debugf(
          "cluster=%s/%s autoscaler holds %d brokers: %s",
          ns, id.getName(), t.desired, decision.reason());
      return;
    }
    Instant now = clock.instant();
    t.desired = decision.desiredBrokers();
    t.lastScale = new LastScale(now, decision.direction());
    t.lastScaled = new Scaled(now, decision);
    metrics.scaled(id, decision.direction());
    LOG.infof(
        "cluster=%s/%s autoscaler: %d brokers, %s", ns, id.getName(), t.desired, decision.reason());
    onScale.accept(id);
  }

  private static LastScale fromStatus(DisklessKafkaClusterStatus status) {
    if (status == null || status.autoscaling == null || status.autoscaling.lastScaleTime == null) {
      return null;
    }
    ScaleDirection d = ScaleDirection.ofLabel(status.autoscaling.lastScaleDirection);
    return d == ScaleDirection.NONE
        ? null
        : new LastScale(Instant.parse(status.autoscaling.lastScaleTime), d);
  }

  /** One cluster's sampling state; written by the sampler thread, read by reconciles. */
  static final class Tracked {
    volatile DisklessKafkaCluster cluster;
    final CpuCounterWindow window;
    final RecommendationHistory history = new RecommendationHistory();
    volatile CpuSample cpu = CpuSample.NONE;
    volatile int desired;
    volatile LastScale lastScale;
    volatile Scaled lastScaled;
    volatile long rounds;

    Tracked(DisklessKafkaCluster cluster, CpuCounterWindow window) {
      this.cluster = cluster;
      this.window = window;
    }
  }
}
