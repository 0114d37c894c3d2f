package dev.diskless.storage.testing;

import dev.diskless.storage.metadata.MetadataConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A PostgreSQL server of one test's own (embedded binaries, a data directory that survives
 * restarts, a fixed port) that the test can stop, start again, and pause with SIGSTOP — the
 * metadata outages brokers must ride out. Not shared: a fault here must not hit other tests.
 */
public final class RestartablePostgres implements AutoCloseable {

  private final Path dataDir;
  private int port;
  private EmbeddedPostgres postgres;
  private boolean running;
  private final List<Long> paused = new ArrayList<>();

  public RestartablePostgres() throws IOException {
    dataDir = Files.createTempDirectory("pg-faults");
    postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setServerConfig("max_connections", "300")
            .start();
    port = postgres.getPort();
    running = true;
  }

  /** The port it listens on (on 127.0.0.1), the same across restarts. */
  public int port() {
    return port;
  }

  /** Creates a database and returns a config for it. */
  public MetadataConfig newDatabase(String name) {
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
    return new MetadataConfig(
        "jdbc:postgresql://127.0.0.1:" + port + "/" + name, "postgres", "postgres", 8);
  }

  /** Stops the server (pg_ctl stop -m fast): connections are closed, new ones refused. */
  public void stop() throws IOException {
    running = false;
    postgres.close();
  }

  /** Starts the server again on the same port and data directory. */
  public void start() throws IOException {
    postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setPort(port)
            .setServerConfig("max_connections", "300")
            .start();
    running = true;
  }

  /**
   * SIGSTOPs the postmaster and every backend: connections stay open but nothing answers, as with a
   * hung host. The postmaster goes first, so that it forks no backend after its children were
   * listed (a connection opened at that moment once got a backend that kept answering through the
   * whole pause); its children are then stopped until no new one appears.
   */
  public void pause() throws Exception {
    long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0));
    paused.clear();
    paused.add(postmaster);
    signal("-STOP", List.of(postmaster));
    while (true) {
      List<Long> fresh = new ArrayList<>();
      ProcessHandle.of(postmaster)
          .orElseThrow()
          .descendants()
          .map(ProcessHandle::pid)
          .filter(pid -> !paused.contains(pid))
          .forEach(fresh::add);
      if (fresh.isEmpty()) {
        return;
      }
      signal("-STOP", fresh);
      paused.addAll(fresh);
    }
  }

  /** SIGCONTs what {@link #pause()} stopped. */
  public void resume() throws Exception {
    signal("-CONT", paused);
    paused.clear();
  }

  private static void signal(String signal, List<Long> pids) throws Exception {
    List<String> argv = new ArrayList<>(List.of("kill", signal));
    pids.forEach(p -> argv.add(Long.toString(p)));
    Process kill = new ProcessBuilder(argv).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill " + signal + " " + pids + " failed");
    }
  }

  @Override
  public void close() throws Exception {
    if (!paused.isEmpty()) {
      resume();
    }
    if (running) {
      stop();
    }
    ScratchDirectory.delete(dataDir);
  }
}
