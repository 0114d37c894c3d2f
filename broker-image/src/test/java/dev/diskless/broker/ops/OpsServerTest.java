package dev.diskless.broker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operations endpoint over real HTTP: only GET and HEAD are served. */
class OpsServerTest {

  private OpsServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.counter("ops.test.counter").increment();
    server = new OpsServer("127.0.0.1", 0, registry, () -> true, () -> false);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void otherMethodsGet405WithTheAllowedOnes() throws Exception {
    for (String path : List.of("/metrics", "/healthz", "/readyz")) {
      for (String method : List.of("POST", "PUT", "DELETE", "FOO")) {
        HttpResponse<String> r = send(method, path);
        assertThat(r.statusCode()).as("%s %s", method, path).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).as("%s %s", method, path).hasValue("GET, HEAD");
      }
    }
  }

  @Test
  void getAndHeadKeepWorking() throws Exception {
    HttpResponse<String> metrics = send("GET", "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("ops_test_counter");
    assertThat(send("GET", "/healthz").body()).isEqualTo("ok\n");
    assertThat(send("GET", "/readyz").statusCode()).isEqualTo(503);

    HttpResponse<String> head = send("HEAD", "/healthz");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
    assertThat(send("HEAD", "/readyz").statusCode()).isEqualTo(503);
    assertThat(send("HEAD", "/metrics").statusCode()).isEqualTo(200);
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
