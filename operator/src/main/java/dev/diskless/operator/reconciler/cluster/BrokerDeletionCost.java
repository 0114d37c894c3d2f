package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
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
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

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
    int httpPort = cluster.getSpec().listeners.httpPort;
    for (Pod pod :
        client
            .pods()
            .inNamespace(ns)
            .withLabels(ClusterNames.brokerSelector(cluster))
            .list()
            .getItems()) {
      if (pod.getMetadata().getDeletionTimestamp() != null
          || pod.getStatus() == null
          || pod.getStatus().getPodIP() == null) {
        continue;
      }
      OptionalLong owned = owned(pod.getStatus().getPodIP(), httpPort);
      if (owned.isEmpty()) {
        // Not answering: the ReplicaSet controller removes not-ready pods first anyway.
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

  private static OptionalLong owned(String ip, int port) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://" + ip + ":" + port + "/metrics"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? ownedPartitions(r.body()) : OptionalLong.empty();
    } catch (java.io.IOException e) {
      return OptionalLong.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalLong.empty();
    }
  }

  /** The broker's {@code diskless_partitions_owned} gauge from a Prometheus text exposition. */
  static OptionalLong ownedPartitions(String metrics) {
    long sum = 0;
    boolean found = false;
    for (String line : metrics.split("\n")) {
      if (line.startsWith("diskless_partitions_owned ")
          || line.startsWith("diskless_partitions_owned{")) {
        double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
        if (Double.isNaN(value)) {
          // A gauge that lost its source: unknown, not zero.
          return OptionalLong.empty();
        }
        sum += (long) value;
        found = true;
      }
    }
    return found ? OptionalLong.of(sum) : OptionalLong.empty();
  }
}
