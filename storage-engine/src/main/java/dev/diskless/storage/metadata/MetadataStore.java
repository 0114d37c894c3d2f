package dev.diskless.storage.metadata;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
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

  /**
   * How long work waits for a connection before failing (retriably): far above any wait under load
   * (transactions take milliseconds), short enough that work started while the database is away
   * does not hang long after it is back.
   */
  private static final Duration CONNECTION_WAIT = Duration.ofSeconds(3);

  private static final String ALIVE_BYPASS_PROPERTY = "com.zaxxer.hikari.aliveBypassWindowMs";

  /** Connections used within this long are lent without a check; the keep-alive checks the rest. */
  private static final Duration ALIVE_BYPASS = Duration.ofMinutes(2);

  /** How often an idle pooled connection is checked (Hikari's default, stated). */
  private static final Duration KEEPALIVE = Duration.ofMinutes(2);

  /** Longer than the main pool's wait for a connection plus its socket timeout. */
  private static final Duration RETIRE_AFTER = Duration.ofSeconds(40);

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
    try {
      // Its own connection: the pool's short wait for a connection is meant for the hot path.
      var result =
          Flyway.configure()
              .dataSource(config.jdbcUrl(), config.user(), config.password())
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
      throw new StorageException(
          Kind.STORAGE_UNAVAILABLE,
          "cannot migrate the metadata schema at " + config.jdbcUrl() + ": " + e.getMessage(),
          e);
    }
    return new MetadataStore(
        config,
        ConnectionSource.pooled(pool(config)),
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
    // Hikari checks a connection idle for over half a second before lending it: a round trip, and
    // a PostgreSQL transaction, in front of nearly every query of a quiet broker. Lent unchecked,
    // a connection the server has closed fails its first use, which inTransaction runs again.
    if (System.getProperty(ALIVE_BYPASS_PROPERTY) == null) {
      System.setProperty(ALIVE_BYPASS_PROPERTY, Long.toString(ALIVE_BYPASS.toMillis()));
    }
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(config.jdbcUrl());
    hikari.setUsername(config.user());
    hikari.setPassword(config.password());
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setKeepaliveTime(KEEPALIVE.toMillis());
    hikari.setPoolName("diskless-metadata");
    hikari.setAutoCommit(false);
    // PostgreSQL's default, stated: left unset, Hikari asks the first connection, and if that
    // question dies with the server (a pool created during an outage) it keeps -1 and refuses every
    // later connection ("Transaction isolation level -1 not supported") until the process restarts.
    hikari.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    // Short, and retried by borrow() up to CONNECTION_WAIT, so that a waiter moves to a pool
    // that replaced this one (reconnect) within this long.
    hikari.setConnectionTimeout(250);
    hikari.setValidationTimeout(250);
    // Start even while the database is down: work fails (retriably) until it is back.
    hikari.setInitializationFailTimeout(-1);
    // A broker that cannot reach PostgreSQL must fail commits fast rather than hang its WAL.
    hikari.addDataSourceProperty("socketTimeout", "30");
    hikari.addDataSourceProperty("connectTimeout", "10");
    hikari.addDataSourceProperty("tcpKeepAlive", "true");
    hikari.addDataSourceProperty("options", ServerSessionSettings.options(""));
    return new HikariDataSource(hikari);
  }

  /**
   * Sends new work to fresh connections. After an outage a pool waits up to seconds between
   * reconnection attempts (Hikari's backoff, at most 5 s); a broker that just heard from the
   * database through another connection calls this rather than wait that out. The old pool keeps
   * serving what already waits on it (closing it would strand those waiters until their timeout)
   * and is closed once that can no longer be anyone.
   */
  public void reconnect() {
    ConnectionSource old = connections;
    connections = connect.get();
    Thread.ofVirtual()
        .name("metadata-retire")
        .start(
            () -> {
              try {
                Thread.sleep(RETIRE_AFTER);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              old.close();
            });
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
    long deadline = System.nanoTime() + CONNECTION_WAIT.toNanos();
    while (true) {
      ConnectionSource source;
      Connection c;
      try {
        while (true) {
          source = connections;
          try {
            c = source.borrow();
            break;
          } catch (SQLTransientConnectionException e) {
            // The pool had none to give yet; it may have been replaced meanwhile.
            if (System.nanoTime() - deadline >= 0) {
              throw e;
            }
          }
        }
      } catch (SQLException e) {
        throw unavailable(e);
      }
      boolean reusable = false;
      boolean committing = false;
      SQLException failed;
      try {
        T result = work.run(c);
        committing = true;
        c.commit();
        reusable = true;
        return result;
      } catch (SQLException e) {
        rollbackQuietly(c);
        failed = e;
      } catch (RuntimeException e) {
        reusable = rollbackQuietly(c);
        throw e;
      } finally {
        source.giveBack(c, reusable);
      }
      // A failed commit may have happened: never run twice.
      if (committing || !closedByServer(failed) || System.nanoTime() - deadline >= 0) {
        throw unavailable(failed);
      }
      // The work failed before its commit, so nothing of it happened: it runs again on another.
      LOG.debug(
          "metadata connection closed by the server; running the work again: {}",
          failed.toString());
    }
  }

  /**
   * Whether {@code e} says the connection was already gone when used (the server restarted or ended
   * it) rather than that the work failed or the server stopped answering: pooled connections are
   * lent without a check of their own (one round trip each), so the first use after a restart meets
   * this.
   */
  static boolean closedByServer(SQLException e) {
    String state = e.getSQLState();
    if (state == null
        || !(state.startsWith("08") || state.equals("57P01") || state.equals("57P02"))) {
      return false;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.SocketTimeoutException) {
        return false;
      }
    }
    return true;
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
