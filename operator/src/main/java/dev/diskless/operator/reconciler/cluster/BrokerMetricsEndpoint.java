package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;

/**
 * The brokers' Prometheus endpoints ({@code /metrics} on each pod's HTTP port), read by the
 * operator for the deletion cost before a scale-in and for the autoscaler's CPU samples: which
 * broker pods there are (all zones, by the cluster's common selector), and all of them read at
 * once. Short timeouts: a broker that does not answer is skipped, not waited for.
 */
public final class BrokerMetricsEndpoint {

  /**
   * The cluster's broker pods as one list saw them.
   *
   * @param running pods not being deleted that have an IP, in list order
   * @param terminating whether a broker pod is being deleted (still handing its partitions over)
   */
  public record BrokerPods(List<Pod> running, boolean terminating) {}

  /** Lists the cluster's broker pods, every zone's, by the common selector. */
  public static BrokerPods brokerPods(KubernetesClient client, DisklessKafkaCluster cluster) {
    List<Pod> running = new ArrayList<>();
    boolean terminating = false;
    for (Pod pod :
        client
            .pods()
            .inNamespace(cluster.getMetadata().getNamespace())
            .withLabels(ClusterNames.brokerSelector(cluster))
            .list()
            .getItems()) {
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        terminating = true;
      } else if (pod.getStatus() != null && pod.getStatus().getPodIP() != null) {
        running.add(pod);
      }
    }
    return new BrokerPods(List.copyOf(running), terminating);
  }

  /**
   * Starts reading every pod's /metrics at once, so that a round takes the time of the slowest
   * broker, not the sum; by pod name, in the pods' order.
   */
  public static Map<String, CompletableFuture<Optional<String>>> scrapeAll(
      List<Pod> pods, int port) {
    Map<String, CompletableFuture<Optional<String>>> out = new LinkedHashMap<>();
    for (Pod pod : pods) {
      out.put(pod.getMetadata().getName(), scrapeAsync(pod.getStatus().getPodIP(), port));
    }
    return out;
  }

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private BrokerMetricsEndpoint() {}

  /** The exposition text, or empty when the broker does not answer with 200. */
  public static Optional<String> scrape(String ip, int port) {
    return scrapeAsync(ip, port).join();
  }

  /**
   * As {@link #scrape}, without waiting: a round over several brokers takes the time of the
   * slowest, not the sum (a busy or just restarted broker's JVM may take seconds to answer).
   */
  public static CompletableFuture<Optional<String>> scrapeAsync(String ip, int port) {
    return HTTP.sendAsync(
            HttpRequest.newBuilder(URI.create("http://" + ip + ":" + port + "/metrics"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .handle(
            (r, t) ->
                t == null && r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty());
  }

  /**
   * The sum of a metric's samples (all label sets) in a Prometheus text exposition; empty when it
   * is absent or NaN (a gauge that lost its source is unknown, not zero).
   */
  public static OptionalDouble sum(String metrics, String name) {
    double sum = 0;
    boolean found = false;
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
        if (Double.isNaN(value)) {
          return OptionalDouble.empty();
        }
        sum += value;
        found = true;
      }
    }
    return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
  }
}
