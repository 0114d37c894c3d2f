package dev.diskless.operator.reconciler.cluster.autoscaling;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.reconciler.cluster.ClusterNames;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.ContainerMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetricsList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * The broker pods' CPU usage from {@code metrics.k8s.io} (metrics-server or a Prometheus adapter)
 * when the API server serves it, never required: whether it is served is asked of API discovery
 * once and again every {@code recheck} (default 10 min), and while it is not, nothing is read and
 * nothing is logged above debug. A read that fails (the adapter down, no RBAC) counts as not served
 * until the next check, so a broken adapter costs one debug line per recheck, not one per round.
 */
public final class PodMetricsApi {

  public static final String GROUP = "metrics.k8s.io";

  /** The broker container, the one whose usage counts (sidecars added by a mesh do not). */
  static final String CONTAINER = "broker";

  private static final Logger LOG = Logger.getLogger(PodMetricsApi.class);

  private final KubernetesClient client;
  private final BooleanSupplier discovery;
  private final Clock clock;
  private final Duration recheck;
  private Instant checkedAt;
  private volatile boolean served;

  PodMetricsApi(KubernetesClient client, Clock clock, Duration recheck) {
    this(client, () -> client.getApiGroup(GROUP) != null, clock, recheck);
  }

  PodMetricsApi(KubernetesClient client, BooleanSupplier discovery, Clock clock, Duration recheck) {
    this.client = client;
    this.discovery = discovery;
    this.clock = clock;
    this.recheck = recheck;
  }

  /** Whether the API server serves metrics.k8s.io, from discovery at most every recheck. */
  synchronized boolean served() {
    Instant now = clock.instant();
    if (checkedAt == null || !now.isBefore(checkedAt.plus(recheck))) {
      checkedAt = now;
      boolean was = served;
      try {
        served = discovery.getAsBoolean();
      } catch (KubernetesClientException e) {
        served = false;
        LOG.debugf("%s discovery failed: %s", GROUP, e.getMessage());
      }
      if (served != was) {
        LOG.infof(
            "%s is %s: broker CPU %s",
            GROUP,
            served ? "served" : "not served",
            served
                ? "is also read from PodMetrics, the fallback for a broker whose /metrics fails"
                : "comes from the brokers' /metrics only");
      }
    }
    return served;
  }

  /** The last discovery answer, for the operator's metrics; no request. */
  boolean lastKnownServed() {
    return served;
  }

  /** Cores used per broker pod of the cluster; empty when the API is not served. */
  Map<String, Double> brokerCores(DisklessKafkaCluster cluster) {
    if (!served()) {
      return Map.of();
    }
    try {
      return cores(
          client
              .top()
              .pods()
              .inNamespace(cluster.getMetadata().getNamespace())
              .withLabels(ClusterNames.brokerSelector(cluster))
              .metrics());
    } catch (KubernetesClientException e) {
      synchronized (this) {
        // Not asked again before the next discovery check.
        served = false;
        checkedAt = clock.instant();
      }
      LOG.debugf(
          "cluster=%s/%s %s PodMetrics not read: %s",
          cluster.getMetadata().getNamespace(),
          cluster.getMetadata().getName(),
          GROUP,
          e.getMessage());
      return Map.of();
    }
  }

  /** Each pod's broker container usage in cores; pods without it are left out. */
  static Map<String, Double> cores(PodMetricsList list) {
    Map<String, Double> out = new TreeMap<>();
    if (list == null || list.getItems() == null) {
      return out;
    }
    for (PodMetrics pod : list.getItems()) {
      if (pod.getContainers() == null) {
        continue;
      }
      for (ContainerMetrics c : pod.getContainers()) {
        Quantity cpu = c.getUsage() == null ? null : c.getUsage().get("cpu");
        if (CONTAINER.equals(c.getName()) && cpu != null) {
          out.put(pod.getMetadata().getName(), cpu.getNumericalAmount().doubleValue());
        }
      }
    }
    return out;
  }
}
