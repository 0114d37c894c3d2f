package dev.diskless.e2e.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One broker of a chaos run: the {@code broker} command of the broker jar as its own process (in
 * its own network namespace when the cluster has them), started, killed, stopped, paused and
 * started again by the nemesis. Its output is appended to one log across restarts.
 */
final class BrokerNode {

  private final String name;
  private final String address;
  private final int port;
  private final int httpPort;
  private final List<String> launcher;
  private final Path config;
  private final Path log;
  private final FakeClock clock;
  private volatile Process process;

  /**
   * @param launcher the command prefix that places the process on its network (empty for none)
   * @param clock its shiftable wall clock, or null for the machine's
   */
  BrokerNode(
      String name,
      String address,
      int port,
      int httpPort,
      List<String> launcher,
      Path brokerJar,
      Map<String, String> settings,
      Path dir,
      FakeClock clock)
      throws IOException {
    this.clock = clock;
    this.name = name;
    this.address = address;
    this.port = port;
    this.httpPort = httpPort;
    this.config = dir.resolve(name + ".properties");
    this.log = dir.resolve(name + ".log");
    StringBuilder text = new StringBuilder();
    settings.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    Files.writeString(config, text);
    List<String> argv = new ArrayList<>(launcher);
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(List.of("-Xmx384m", "-XX:+UseSerialGC"));
    argv.addAll(List.of("-jar", brokerJar.toString(), "broker", "--config", config.toString()));
    this.launcher = List.copyOf(argv);
  }

  String name() {
    return name;
  }

  /** Where clients reach it. */
  String bootstrap() {
    return address + ":" + port;
  }

  Path log() {
    return log;
  }

  synchronized void start() throws IOException {
    start(Map.of());
  }

  /** Starts it with {@code env} added to its environment (a test crash point, say). */
  synchronized void start(Map<String, String> env) throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is running");
    }
    Files.writeString(
        log,
        "---- start " + Instant.now() + " " + env + "\n",
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    ProcessBuilder builder =
        new ProcessBuilder(launcher)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (clock != null) {
      builder.environment().putAll(clock.environment());
    }
    builder.environment().putAll(env);
    process = builder.start();
  }

  boolean alive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** Whether its operations port says it serves (its lease held, registered). */
  boolean ready() {
    if (!alive()) {
      return false;
    }
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
      return http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://" + address + ":" + httpPort + "/readyz"))
                      .timeout(Duration.ofSeconds(2))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Waits up to {@code within} for the process to exit by itself; whether it did. */
  boolean awaitExit(Duration within) throws InterruptedException {
    Process p = process;
    return p == null || p.waitFor(within.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** SIGKILL, as a node failure: nothing flushed, nothing handed over. */
  synchronized void kill() throws InterruptedException {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** SIGTERM, as Kubernetes stops a pod, and waits for the exit (its drain). */
  synchronized void terminate(Duration grace) throws InterruptedException {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  /** Steps its wall clock to true time plus {@code seconds}; it must run with a fake clock. */
  void jumpClock(long seconds) throws IOException {
    if (clock == null) {
      throw new IllegalStateException(name + " runs on the machine's clock");
    }
    clock.step(seconds);
  }

  void pause() throws Exception {
    signal("-STOP");
  }

  void resume() throws Exception {
    signal("-CONT");
  }

  private void signal(String signal) throws Exception {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    Process kill = new ProcessBuilder("kill", signal, Long.toString(p.pid())).start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill " + signal + " " + p.pid() + " failed");
    }
  }
}
