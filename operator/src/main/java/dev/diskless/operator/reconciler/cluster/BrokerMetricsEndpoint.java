package dev.diskless.operator.reconciler.cluster;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;

/**
 * A broker pod's Prometheus endpoint ({@code /metrics} on its HTTP port), read by the operator for
 * the deletion cost before a scale-in and for the autoscaler's CPU samples. Short timeouts: a
 * broker that does not answer is skipped, not waited for.
 */
public final class BrokerMetricsEndpoint {

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
