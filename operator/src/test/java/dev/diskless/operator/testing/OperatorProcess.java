package dev.diskless.operator.testing;

import dev.diskless.kube.LocalControlPlane;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The packaged operator ({@code target/quarkus-app/quarkus-run.jar}, prod profile, so with leader
 * election) as a process of its own, pointed at {@link KubeControlPlane} with a token of the
 * chart's ServiceAccount: what the chart's Deployment runs, minus the container.
 */
public final class OperatorProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final int httpPort;
  private final Path log;
  private final HttpClient http = HttpClient.newHttpClient();

  private OperatorProcess(String name, Process process, int httpPort, Path log) {
    this.name = name;
    this.process = process;
    this.httpPort = httpPort;
    this.log = log;
  }

  /** Starts one replica named {@code name} (its lease identity) whose lease lasts {@code lease}. */
  public static OperatorProcess start(
      String name, String token, String leaseNamespace, Duration lease, Map<String, String> env)
      throws IOException {
    String app = System.getProperty("operator.app", "target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(Path.of(app))) {
      throw new IllegalStateException(app + " missing: these tests run after package");
    }
    int port = LocalControlPlane.freePort();
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-jar", app));
    Path log = Files.createTempFile("operator-" + name + "-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> e = pb.environment();
    e.put("QUARKUS_KUBERNETES_CLIENT_API_SERVER_URL", KubeControlPlane.get().url());
    e.put("QUARKUS_KUBERNETES_CLIENT_TOKEN", token);
    e.put("QUARKUS_KUBERNETES_CLIENT_TRUST_CERTS", "true");
    e.put("QUARKUS_HTTP_PORT", Integer.toString(port));
    e.put("POD_NAME", name);
    e.put("POD_NAMESPACE", leaseNamespace);
    e.put("DISKLESS_OPERATOR_LEASE_DURATION", lease.toMillis() + "ms");
    e.put("DISKLESS_OPERATOR_LEASE_RENEW_DEADLINE", lease.toMillis() * 2 / 3 + "ms");
    e.put("DISKLESS_OPERATOR_LEASE_RETRY_PERIOD", Math.max(200, lease.toMillis() / 8) + "ms");
    e.putAll(env);
    return new OperatorProcess(name, pb.start(), port, log);
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook, no lease release, whatever it was doing is cut off. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  /** Resident set size from /proc, in bytes. */
  public long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for " + pid());
  }

  /** GET on the operator's HTTP port: status code and body. */
  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until the HTTP endpoint answers (Quarkus started). */
  public void awaitStarted(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("operator " + name + " exited:\n" + logTail());
      }
      try {
        get("/q/health/live");
        return;
      } catch (IOException notYet) {
        Thread.sleep(200);
      }
    }
    throw new IllegalStateException("operator " + name + " did not start:\n" + logTail());
  }

  public String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }
}
