package dev.diskless.operator.reconciler.cluster.autoscaling;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import dev.diskless.operator.reconciler.cluster.BrokerMetricsEndpoint;
import dev.diskless.operator.reconciler.cluster.ClusterNames;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Samples the brokers of every autoscaled cluster on its own thread, never the reconcile thread:
 * each round reads each broker pod's CPU-time counter from its /metrics, the brokers' Deployment
 * and pods (is anything still moving?), and asks the {@link ScaleDecider}. When the count changes
 * it asks for a reconcile, which writes the count into the status; the status drives the
 * Deployment. What it keeps is in memory and rebuilt after a restart (the count itself is in the
 * status, so a restart never changes it).
 */
@ApplicationScoped
public class ClusterAutoscaler {

  private static final Logger LOG = Logger.getLogger(ClusterAutoscaler.class);

  /** What the status reports of one cluster's autoscaler. */
  public record Snapshot(Optional<CpuLoad> load, int desiredBrokers, Optional<Scaled> lastScale) {}

  /** A change of the broker count: when, and the decision. */
  public record Scaled(Instant at, ScaleDecision decision) {}

  private final KubernetesClient client;
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
          Duration cpuWindow) {
    this.client = client;
    this.clock = Clock.systemUTC();
    this.interval = interval;
    this.cpuWindow = cpuWindow;
    this.decider = new ScaleDecider(clock);
    this.metrics = new AutoscalerMetrics(meters);
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
    return new Snapshot(t.load, t.desired, Optional.ofNullable(t.lastScaled));
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
    String ns = cluster.getMetadata().getNamespace();
    int httpPort = cluster.getSpec().listeners.httpPort;
    Deployment brokers =
        client.apps().deployments().inNamespace(ns).withName(ClusterNames.brokers(cluster)).get();
    boolean terminating = false;
    Set<String> live = new HashSet<>();
    for (Pod pod :
        client
            .pods()
            .inNamespace(ns)
            .withLabels(ClusterNames.brokerSelector(cluster))
            .list()
            .getItems()) {
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        // Still handing its partitions over on SIGTERM.
        terminating = true;
        continue;
      }
      String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
      if (ip == null) {
        continue;
      }
      String name = pod.getMetadata().getName();
      live.add(name);
      BrokerMetricsEndpoint.scrape(ip, httpPort)
          .map(BrokerCpu::seconds)
          .filter(s -> s.isPresent())
          .ifPresent(s -> t.window.record(name, clock.instant(), s.getAsDouble()));
    }
    t.window.retain(live);
    Optional<CpuLoad> load = t.window.load(requestCores(cluster));
    ScalingPolicy policy = ScalingPolicy.of(cluster.getSpec().autoscaling);
    boolean pending = terminating || !settled(brokers, t.desired);
    ScaleDecision decision =
        decider.decide(
            new ScaleDecider.Inputs(
                policy, t.desired, load, pending, Optional.ofNullable(t.lastScale)),
            t.history);
    t.load = load;
    t.rounds++;
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

  /**
   * Whether the brokers run the count last decided and nothing moves: the Deployment has that many
   * replicas, all current and available. A scale-in waits for it, so that the next broker goes only
   * after the previous one's partitions are owned elsewhere.
   */
  static boolean settled(Deployment d, int desired) {
    if (d == null || d.getSpec() == null || d.getStatus() == null) {
      return false;
    }
    var st = d.getStatus();
    Long generation = d.getMetadata().getGeneration();
    return d.getSpec().getReplicas() != null
        && d.getSpec().getReplicas() == desired
        && st.getObservedGeneration() != null
        && (generation == null || st.getObservedGeneration() >= generation)
        && count(st.getReplicas()) == desired
        && count(st.getUpdatedReplicas()) == desired
        && count(st.getAvailableReplicas()) == desired;
  }

  private static int count(Integer n) {
    return n == null ? 0 : n;
  }

  /** The broker pod's CPU request in cores (the API server made sure there is one). */
  static double requestCores(DisklessKafkaCluster cluster) {
    var resources = cluster.getSpec().brokers.resources;
    Quantity cpu =
        resources == null || resources.getRequests() == null
            ? null
            : resources.getRequests().get("cpu");
    return cpu == null ? 0 : cpu.getNumericalAmount().doubleValue();
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
    volatile Optional<CpuLoad> load = Optional.empty();
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
