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
import java.util.Optional;
import java.util.Set;

/**
 * One sampling round of one cluster's brokers, on the autoscaler's thread: reads every running
 * broker pod's CPU-time counter into the cluster's {@link CpuCounterWindow}, and tells whether
 * partitions may still be moving (a broker pod terminating, or the Deployment not settled at the
 * count last decided).
 */
final class BrokerSampler {

  /** What one round saw. */
  record Observation(Optional<CpuLoad> load, boolean movesPending) {}

  private final KubernetesClient client;
  private final Clock clock;

  BrokerSampler(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  Observation sample(DisklessKafkaCluster cluster, CpuCounterWindow window, int decided) {
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
          .ifPresent(s -> window.record(name, clock.instant(), s.getAsDouble()));
    }
    window.retain(live);
    return new Observation(
        window.load(requestCores(cluster)), terminating || !settled(brokers, decided));
  }

  /**
   * Whether the brokers run the count last decided and nothing moves: the Deployment has that many
   * replicas, all current and available. A scale-in waits for it, so that the next broker goes only
   * after the previous one's partitions are owned elsewhere.
   */
  static boolean settled(Deployment d, int decided) {
    if (d == null || d.getSpec() == null || d.getStatus() == null) {
      return false;
    }
    var st = d.getStatus();
    Long generation = d.getMetadata().getGeneration();
    return d.getSpec().getReplicas() != null
        && d.getSpec().getReplicas() == decided
        && st.getObservedGeneration() != null
        && (generation == null || st.getObservedGeneration() >= generation)
        && count(st.getReplicas()) == decided
        && count(st.getUpdatedReplicas()) == decided
        && count(st.getAvailableReplicas()) == decided;
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
