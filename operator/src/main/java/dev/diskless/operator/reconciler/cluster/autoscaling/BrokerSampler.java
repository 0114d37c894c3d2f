package dev.diskless.operator.reconciler.cluster.autoscaling;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.reconciler.cluster.BrokerMetricsEndpoint;
import dev.diskless.operator.reconciler.cluster.ClusterNames;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One sampling round of one cluster's brokers (every zone's, by the cluster's common selector), on
 * the autoscaler's thread: reads every running broker pod's CPU-time counter from its /metrics, all
 * at once, into the cluster's {@link CpuCounterWindow}; when metrics.k8s.io is served, also the
 * pods' PodMetrics, the fallback for a broker whose /metrics does not answer ({@link CpuSample});
 * and tells whether partitions may still be moving (a broker pod terminating, or the broker
 * Deployments not settled at the count last decided).
 */
final class BrokerSampler {

  /** What one round saw. */
  record Observation(CpuSample cpu, boolean movesPending) {}

  private final KubernetesClient client;
  private final PodMetricsApi podMetrics;
  private final Clock clock;

  BrokerSampler(KubernetesClient client, PodMetricsApi podMetrics, Clock clock) {
    this.client = client;
    this.podMetrics = podMetrics;
    this.clock = clock;
  }

  Observation sample(DisklessKafkaCluster cluster, CpuCounterWindow window, int decided) {
    String ns = cluster.getMetadata().getNamespace();
    List<Deployment> deployments =
        client
            .apps()
            .deployments()
            .inNamespace(ns)
            .withLabels(ClusterNames.labels(cluster))
            .list()
            .getItems();
    BrokerMetricsEndpoint.BrokerPods pods = BrokerMetricsEndpoint.brokerPods(client, cluster);
    var scrapes =
        BrokerMetricsEndpoint.scrapeAll(pods.running(), cluster.getSpec().listeners.httpPort);
    // Read while the scrapes are under way.
    Map<String, Double> usage = podMetrics.brokerCores(cluster);
    Set<String> live = new HashSet<>();
    Set<String> read = new HashSet<>();
    for (Pod pod : pods.running()) {
      String name = pod.getMetadata().getName();
      live.add(name);
      scrapes
          .get(name)
          .join()
          .map(BrokerCpu::seconds)
          .filter(s -> s.isPresent())
          .ifPresent(
              s -> {
                window.record(name, clock.instant(), s.getAsDouble());
                read.add(name);
              });
    }
    window.retain(live);
    Map<String, Double> liveUsage = new TreeMap<>(usage);
    liveUsage.keySet().retainAll(live);
    return new Observation(
        CpuSample.choose(window.rates(), read, liveUsage, requestCores(cluster)),
        pods.terminating() || !settled(deployments, decided));
  }

  /**
   * Whether the brokers run the count last decided and nothing moves: the broker Deployments
   * together want that many, and each has all its replicas current and available (a Deployment
   * still being replaced after the zones changed makes the sum too high). A scale-in waits for it,
   * so that the next broker goes only after the previous one's partitions are owned elsewhere.
   */
  static boolean settled(List<Deployment> deployments, int decided) {
    if (deployments.isEmpty()) {
      return false;
    }
    int wanted = 0;
    for (Deployment d : deployments) {
      if (d.getSpec() == null || d.getSpec().getReplicas() == null || d.getStatus() == null) {
        return false;
      }
      int replicas = d.getSpec().getReplicas();
      var st = d.getStatus();
      Long generation = d.getMetadata().getGeneration();
      if (st.getObservedGeneration() == null
          || (generation != null && st.getObservedGeneration() < generation)
          || count(st.getReplicas()) != replicas
          || count(st.getUpdatedReplicas()) != replicas
          || count(st.getAvailableReplicas()) != replicas) {
        return false;
      }
      wanted += replicas;
    }
    return wanted == decided;
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
}
