package dev.diskless.broker.testing;

import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One broker as its own operating-system process, started the way the container starts it ({@code
 * BrokerMain broker --config FILE}) from this test's classpath, so that a test can pause it with
 * SIGSTOP, kill it, or watch it exit. Its output goes to a log file under {@code target/}.
 */
public final class BrokerProcess implements AutoCloseable {

  private final Process process;
  private final int port;
  private final int httpPort;
  private final Path log;

  private BrokerProcess(Process process, int port, int httpPort, Path log) {
    this.process = process;
    this.port = port;
    this.httpPort = httpPort;
    this.log = log;
  }

  /**
   * Starts a broker on the given stores; {@code settings} adds or overrides broker settings by key.
   */
  public static BrokerProcess start(
      String instanceId,
      ObjectStoreConfig objects,
      MetadataConfig metadata,
      Map<String, String> settings)
      throws IOException {
    return start(instanceId, objects, metadata, settings, Map.of());
  }

  /** As above, with {@code env} added to the process environment (e.g. a test crash point). */
  public static BrokerProcess start(
      String instanceId,
      ObjectStoreConfig objects,
      MetadataConfig metadata,
      Map<String, String> settings,
      Map<String, String> env)
      throws IOException {
    int port = freePort();
    int httpPort = freePort();
    Map<String, String> all = new LinkedHashMap<>();
    all.put("instance.id", instanceId);
    all.put("listen.host", "127.0.0.1");
    all.put("listen.port", Integer.toString(port));
    all.put("advertised.host", "127.0.0.1");
    all.put("http.port", Integer.toString(httpPort));
    all.put("object.store.bucket", objects.bucket());
    all.put("object.store.region", objects.region());
    objects.endpoint().ifPresent(e -> all.put("object.store.endpoint", e.toString()));
    objects
        .credentials()
        .ifPresent(
            c -> {
              all.put("object.store.access.key.id", c.accessKeyId());
              all.put("object.store.secret.access.key", c.secretAccessKey());
            });
    all.put("metadata.jdbc.url", metadata.jdbcUrl());
    all.put("metadata.user", metadata.user());
    all.put("metadata.password", metadata.password());
    all.put("wal.max.age.ms", "20");
    all.putAll(settings);
    Path dir = Files.createDirectories(Path.of("target", "broker-processes"));
    Path config = dir.resolve(instanceId + ".properties");
    StringBuilder text = new StringBuilder();
    all.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    Files.writeString(config, text);
    Path log = dir.resolve(instanceId + ".log");
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.add("-Xmx512m");
    argv.add("-cp");
    argv.add(System.getProperty("java.class.path"));
    argv.add("dev.diskless.broker.BrokerMain");
    argv.add("broker");
    argv.add("--config");
    argv.add(config.toString());
    ProcessBuilder builder =
        new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(env);
    Process process = builder.start();
    return new BrokerProcess(process, port, httpPort, log);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public int port() {
    return port;
  }

  public Path log() {
    return log;
  }

  public Process process() {
    return process;
  }

  /** The HTTP status of {@code path} on the operations port, or -1 if it does not answer. */
  public int probe(String path) {
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  public void pause() throws Exception {
    signal("-STOP");
  }

  public void resume() throws Exception {
    signal("-CONT");
  }

  /** Kills the process with SIGKILL, as a node failure would, and waits until it is gone. */
  public void kill() throws Exception {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("broker process " + process.pid() + " survived SIGKILL");
    }
  }

  private void signal(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
    }
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      signal("-CONT");
      process.destroy();
      if (!process.waitFor(40, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }
}
