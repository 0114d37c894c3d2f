package dev.diskless.storage.metadata;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool to PostgreSQL and the schema migrations. Every metadata operation runs in its
 * own transaction on a virtual thread, so callers get a future and no caller thread ever blocks on
 * JDBC. SQL errors become {@link StorageException}s of kind {@link Kind#STORAGE_UNAVAILABLE}, which
 * callers treat as retriable.
 */
public final class MetadataStore implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MetadataStore.class);

  private final MetadataConfig config;
  private final Supplier<ConnectionSource> connect;
  private volatile ConnectionSource connections;
  private final ExecutorService executor;

  private MetadataStore(
      MetadataConfig config,
      ConnectionSource first,
      Supplier<ConnectionSource> connect,
      String threadPrefix) {
    this.config = config;
    this.connect = connect;
    this.connections = first;
    this.executor =
        Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(threadPrefix, 0).factory());
  }

  /** Connects, applies pending Flyway migrations and returns the store. */
  public static MetadataStore open(MetadataConfig config) {
    HikariDataSource ds = pool(config);
    try {
      var result =
          Flyway.configure()
              .dataSource(ds)
              .locations("classpath:db/migration")
              .table("diskless_schema_history")
              .load()
              .migrate();
      if (result.migrationsExecuted > 0) {
        LOG.info(
            "metadata schema migrated to version {} ({} migrations applied)",
            result.targetSchemaVersion,
            result.migrationsExecuted);
      } else {
        LOG.info("metadata schema is up to date");
      }
    } catch (RuntimeException e) {
      ds.close();
      throw new StorageException(
          Kind.STORAGE_UNAVAILABLE,
          "cannot migrate the metadata schema at " + config.jdbcUrl() + ": " + e.getMessage(),
          e);
    }
    return new MetadataStore(
        config,
        ConnectionSource.pooled(ds),
        () -> ConnectionSource.pooled(pool(config)),
        "metadata-");
  }

  /**
   * A separate connection to the same database, for work that must not queue behind this store's
   * pool (lease renewals): no pool, so no waiting for a connection and no reconnection backoff
   * (Hikari backs off up to seconds after an outage); connecting, every statement and every socket
   * read are each bounded by {@code timeout}. One connection is kept between uses; a use that finds
   * it busy (an earlier one stuck on a stalled server) or broken opens another. Runs no migrations;
   * close it on its own.
   */
  public MetadataStore dedicated(String name, Duration timeout) {
    return new MetadataStore(
        config,
        new DirectConnections(config, timeout),
        () -> new DirectConnections(config, timeout),
        name + "-");
  }

  private static HikariDataSource pool(MetadataConfig config) {
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(config.jdbcUrl());
    hikari.setUsername(config.user());
    hikari.setPassword(config.password());
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setPoolName("diskless-metadata");
    hikari.setAutoCommit(false);
    hikari.setConnectionTimeout(10_000);
    hikari.setValidationTimeout(2_000);
    // Start even while the database is down: work fails (retriably) until it is back.
    hikari.setInitializationFailTimeout(-1);
    // A broker that cannot reach PostgreSQL must fail commits fast rather than hang its WAL.
    hikari.addDataSourceProperty("socketTimeout", "30");
    hikari.addDataSourceProperty("connectTimeout", "10");
    hikari.addDataSourceProperty("tcpKeepAlive", "true");
    return new HikariDataSource(hikari);
  }

  /**
   * Replaces the connections with fresh ones; work already holding a connection finishes on it.
   * After an outage a pool waits up to seconds between reconnection attempts (Hikari's backoff); a
   * broker that just heard from the database through another connection calls this rather than wait
   * out that backoff.
   */
  public void reconnect() {
    ConnectionSource old = connections;
    connections = connect.get();
    Thread.ofVirtual().name("metadata-retire").start(old::close);
  }

  /** What this store connects to. */
  public MetadataConfig config() {
    return config;
  }

  /** Runs {@code work} in one transaction on a virtual thread. */
  public <T> CompletableFuture<T> async(SqlWork<T> work) {
    return CompletableFuture.supplyAsync(() -> inTransaction(work), executor);
  }

  /**
   * Runs {@code work} in one transaction on the calling thread; use only from virtual or background
   * threads.
   */
  public <T> T inTransaction(SqlWork<T> work) {
    Connection c;
    try {
      c = connections.borrow();
    } catch (SQLException e) {
      throw unavailable(e);
    }
    boolean reusable = false;
    try {
      T result = work.run(c);
      c.commit();
      reusable = true;
      return result;
    } catch (SQLException e) {
      rollbackQuietly(c);
      throw unavailable(e);
    } catch (RuntimeException e) {
      reusable = rollbackQuietly(c);
      throw e;
    } finally {
      connections.giveBack(c, reusable);
    }
  }

  private static StorageException unavailable(SQLException e) {
    return new StorageException(
        Kind.STORAGE_UNAVAILABLE,
        "metadata store error: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")",
        e);
  }

  /** Returns whether the connection is still usable. */
  private static boolean rollbackQuietly(Connection c) {
    try {
      c.rollback();
      return true;
    } catch (SQLException ignored) {
      // The connection is broken; it is not used again.
      return false;
    }
  }

  @Override
  public void close() {
    executor.close();
    connections.close();
  }
}
