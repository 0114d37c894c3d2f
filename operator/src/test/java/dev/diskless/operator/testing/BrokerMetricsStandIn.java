package dev.diskless.operator.testing;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Stands in for a broker pod's /metrics where no kubelet runs the broker: an HTTP server on a
 * loopback address of its own (the pod's IP) that exports what the broker exports through the same
 * Micrometer binder, {@code ProcessorMetrics} (the real CPU-time counter of this JVM), plus the
 * broker's {@code diskless_partitions_owned} gauge with the value the test gives it.
 */
public final class BrokerMetricsStandIn implements AutoCloseable {

  private final HttpServer server;

  public BrokerMetricsStandIn(String ip, int port, long partitionsOwned) throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ProcessorMetrics().bindTo(registry);
    server = HttpServer.create(new InetSocketAddress(ip, port), 0);
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body =
              (registry.scrape() + "diskless_partitions_owned " + partitionsOwned + ".0\n")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
