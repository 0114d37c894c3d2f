package dev.diskless.storage.testing;

import dev.diskless.storage.metadata.MetadataConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.UUID;

/**
 * A real PostgreSQL server (embedded binaries), shared by every test of a JVM; each caller gets a
 * database of its own. Set {@code DISKLESS_TEST_JDBC_URL} (with {@code
 * DISKLESS_TEST_JDBC_USER}/{@code _PASSWORD}) to use an external server instead.
 */
public final class PostgresFixture {

  private static PostgresFixture instance;

  private final EmbeddedPostgres postgres;

  private PostgresFixture() throws Exception {
    postgres = EmbeddedPostgres.builder().setServerConfig("max_connections", "300").start();
    Runtime.getRuntime().addShutdownHook(new Thread(this::stop));
  }

  public static synchronized PostgresFixture get() {
    if (instance == null) {
      try {
        instance = new PostgresFixture();
      } catch (Exception e) {
        throw new IllegalStateException("cannot start embedded PostgreSQL", e);
      }
    }
    return instance;
  }

  public int port() {
    return postgres.getPort();
  }

  /** Creates an empty database and returns a config for it. */
  public MetadataConfig newDatabase() {
    String name = "db_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
    return new MetadataConfig(
        "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + name,
        "postgres",
        "postgres",
        8);
  }

  private void stop() {
    try {
      postgres.close();
    } catch (Exception ignored) {
      // JVM is exiting.
    }
  }
}
