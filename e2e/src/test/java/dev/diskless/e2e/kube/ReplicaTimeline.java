package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An autoscaled cluster's broker count over time, from two watches: the cluster's {@code
 * status.autoscaling} (the autoscaler's count and CPU utilization) and its broker Deployment
 * (replicas asked for, ready). Each change is stamped with System.nanoTime as the watch delivers
 * it, so the timeline can be printed relative to any moment (the load's start) and checked for
 * flapping: a change of direction sooner than the new direction's stabilization window after the
 * previous change.
 */
final class ReplicaTimeline implements AutoCloseable {

  /** The autoscaler changed its count from {@code from} to {@code to}. */
  record Decision(long at, int from, int to, String reason) {
    boolean up() {
      return to > from;
    }
  }

  private record Entry(long at, String text) {}

  private final List<Entry> entries = new CopyOnWriteArrayList<>();
  private final List<Decision> decisions = new CopyOnWriteArrayList<>();
  private final SharedIndexInformer<GenericKubernetesResource> clusterWatch;
  private final SharedIndexInformer<Deployment> deploymentWatch;
  private volatile Integer desired;
  private volatile Integer utilization;
  private volatile String replicas;

  ReplicaTimeline(KubernetesClient client, String namespace, String cluster, String deployment) {
    clusterWatch =
        client
            .genericKubernetesResources("diskless.dev/v1alpha1", "DisklessKafkaCluster")
            .inNamespace(namespace)
            .withName(cluster)
            .inform(handler(this::clusterChanged));
    deploymentWatch =
        client
            .apps()
            .deployments()
            .inNamespace(namespace)
            .withName(deployment)
            .inform(handler(this::deploymentChanged));
  }

  private static <T> ResourceEventHandler<T> handler(java.util.function.Consumer<T> seen) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T o) {
        seen.accept(o);
      }

      @Override
      public void onUpdate(T old, T o) {
        seen.accept(o);
      }

      @Override
      public void onDelete(T o, boolean unknownFinalState) {}
    };
  }

  @SuppressWarnings("unchecked")
  private synchronized void clusterChanged(GenericKubernetesResource c) {
    long now = System.nanoTime();
    Map<String, Object> status =
        (Map<String, Object>) c.getAdditionalProperties().getOrDefault("status", Map.of());
    Map<String, Object> a = (Map<String, Object>) status.getOrDefault("autoscaling", Map.of());
    Integer d = (Integer) a.get("desiredBrokers");
    Integer u = (Integer) a.get("currentCpuUtilization");
    if (d != null && desired != null && !d.equals(desired)) {
      decisions.add(new Decision(now, desired, d, String.valueOf(a.get("lastScaleReason"))));
      entries.add(new Entry(now, "autoscaler " + desired + " -> " + d));
    }
    if (!Objects.equals(u, utilization) && u != null) {
      entries.add(new Entry(now, "CPU " + u + "%"));
    }
    if (d != null) {
      desired = d;
    }
    utilization = u;
  }

  private synchronized void deploymentChanged(Deployment d) {
    long now = System.nanoTime();
    int ready =
        d.getStatus() == null || d.getStatus().getReadyReplicas() == null
            ? 0
            : d.getStatus().getReadyReplicas();
    String r = d.getSpec().getReplicas() + "/" + ready;
    if (!r.equals(replicas)) {
      entries.add(new Entry(now, "Deployment " + r + " ready"));
      replicas = r;
    }
  }

  /** The autoscaler's count as last seen, or null before its first status. */
  Integer desired() {
    return desired;
  }

  List<Decision> decisions() {
    return List.copyOf(decisions);
  }

  /**
   * Changes of direction that came sooner than the new direction's window after the previous
   * change: a scale-in less than {@code down} after a scale-out, or a scale-out less than {@code
   * up} after a scale-in. The watch stamps decisions a little after the autoscaler made them, so a
   * few hundred milliseconds of slack are allowed.
   */
  int directionChangesInsideWindow(Duration up, Duration down) {
    List<Decision> all = decisions();
    long slack = TimeUnit.MILLISECONDS.toNanos(500);
    int count = 0;
    for (int i = 1; i < all.size(); i++) {
      Decision before = all.get(i - 1);
      Decision now = all.get(i);
      if (before.up() != now.up()) {
        Duration window = now.up() ? up : down;
        if (now.at() - before.at() + slack < window.toNanos()) {
          count++;
        }
      }
    }
    return count;
  }

  /** The timeline as "+12.3 s what" items, relative to {@code origin} (System.nanoTime). */
  String format(long origin) {
    List<String> out = new ArrayList<>();
    for (Entry e : entries) {
      out.add(String.format("%+.1f s %s", (e.at() - origin) / 1e9, e.text()));
    }
    return String.join(", ", out);
  }

  @Override
  public void close() {
    clusterWatch.close();
    deploymentWatch.close();
  }
}
