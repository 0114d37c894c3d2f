package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.OptionalLong;
import org.jboss.logging.Logger;

/**
 * Before the brokers are scaled in, tells the ReplicaSet controller which to remove: each running
 * broker pod gets {@code controller.kubernetes.io/pod-deletion-cost} = the partitions it owns (its
 * {@code diskless_partitions_owned} metric), so the least-loaded brokers go and the fewest
 * partitions move. Each removed broker hands its partitions over on SIGTERM before it exits.
 */
final class BrokerDeletionCost {

  static final String ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";
  private static final Logger LOG = Logger.getLogger(BrokerDeletionCost.class);

  private BrokerDeletionCost() {}

  /** Best effort: a failure is logged and the scale-in goes on. */
  static void mark(KubernetesClient client, DisklessKafkaCluster cluster) {
    try {
      markAll(client, cluster);
    } catch (KubernetesClientException e) {
      LOG.warnf(
          "cluster=%s/%s deletion costs not set: %s",
          cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), e.getMessage());
    }
  }

  private static void markAll(KubernetesClient client, DisklessKafkaCluster cluster) {
    String ns = cluster.getMetadata().getNamespace();
    // Every zone's brokers: whichever zone Deployment shrinks finds its pods marked.
    List<Pod> pods = BrokerMetricsEndpoint.brokerPods(client, cluster).running();
    var scrapes = BrokerMetricsEndpoint.scrapeAll(pods, cluster.getSpec().listeners.httpPort);
    for (Pod pod : pods) {
      OptionalLong owned =
          scrapes
              .get(pod.getMetadata().getName())
              .join()
              .map(BrokerDeletionCost::ownedPartitions)
              .orElse(OptionalLong.empty());
      if (owned.isEmpty()) {
        // Not answering: the ReplicaSet controller removes not-ready pods first anyway.
        LOG.infof(
            "cluster=%s/%s pod=%s did not report its partitions: no deletion cost",
            ns, cluster.getMetadata().getName(), pod.getMetadata().getName());
        continue;
      }
      String cost = Long.toString(Math.min(owned.getAsLong(), Integer.MAX_VALUE));
      if (pod.getMetadata().getAnnotations() != null
          && cost.equals(pod.getMetadata().getAnnotations().get(ANNOTATION))) {
        continue;
      }
      try {
        client
            .pods()
            .inNamespace(ns)
            .withName(pod.getMetadata().getName())
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"annotations\":{\"" + ANNOTATION + "\":\"" + cost + "\"}}}");
      } catch (KubernetesClientException e) {
        // A hint, not a precondition: the scale-in goes on and the brokers still drain on SIGTERM.
        LOG.warnf(
            "cluster=%s/%s pod=%s deletion cost not set: %s",
            ns, cluster.getMetadata().getName(), pod.getMetadata().getName(), e.getMessage());
        continue;
      }
      LOG.infof(
          "cluster=%s/%s pod=%s owns %s partitions: deletion cost %s",
          ns, cluster.getMetadata().getName(), pod.getMetadata().getName(), cost, cost);
    }
  }

  /** The broker's {@code diskless_partitions_owned} gauge from a Prometheus text exposition. */
  static OptionalLong ownedPartitions(String metrics) {
    var owned = BrokerMetricsEndpoint.sum(metrics, "diskless_partitions_owned");
    return owned.isPresent() ? OptionalLong.of((long) owned.getAsDouble()) : OptionalLong.empty();
  }
}
