package dev.diskless.broker.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The operations endpoint: {@code /metrics} in Prometheus text format, {@code /healthz} (the
 * process should keep running: it still holds its lease) and {@code /readyz} (registered and
 * serving Kafka requests). It runs on its own port and virtual threads, away from the Kafka
 * listener. Only GET and HEAD are served; other methods get 405 with an {@code Allow} header.
 */
public final class OpsServer implements AutoCloseable {

  private static final String ALLOW = "GET, HEAD";
  private static final String TEXT = "text/plain; charset=utf-8";

  private final HttpServer server;

  public OpsServer(
      String host,
      int port,
      PrometheusMeterRegistry registry,
      BooleanSupplier healthy,
      BooleanSupplier ready)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 64);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/metrics",
        readOnly(
            ex -> respond(ex, 200, registry.scrape(), "text/plain; version=0.0.4; charset=utf-8")));
    server.createContext("/healthz", readOnly(ex -> probe(ex, healthy)));
    server.createContext("/readyz", readOnly(ex -> probe(ex, ready)));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /**
   * Answers anything but GET and HEAD with 405 and the methods allowed (RFC 9110 15.5.6): a probe
   * or scraper misconfigured to POST must see its mistake, not a 200.
   */
  private static HttpHandler readOnly(HttpHandler handler) {
    return ex -> {
      String method = ex.getRequestMethod();
      if (method.equals("GET") || method.equals("HEAD")) {
        handler.handle(ex);
        return;
      }
      ex.getResponseHeaders().set("Allow", ALLOW);
      respond(ex, 405, "method " + method + " not allowed; use " + ALLOW + "\n", TEXT);
    };
  }

  private static void probe(HttpExchange ex, BooleanSupplier check) throws IOException {
    boolean ok = check.getAsBoolean();
    respond(ex, ok ? 200 : 503, ok ? "ok\n" : "not ready\n", TEXT);
  }

  private static void respond(HttpExchange ex, int status, String body, String type)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    if (ex.getRequestMethod().equals("HEAD")) {
      // The headers a GET would get, without the body (-1: no body follows).
      ex.sendResponseHeaders(status, -1);
      ex.close();
      return;
    }
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
