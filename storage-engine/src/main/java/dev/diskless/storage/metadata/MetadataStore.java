package dev.diskless.storage.metadata;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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

  private final HikariDataSource dataSource;
  private final ExecutorService executor;

  private MetadataStore(HikariDataSource dataSource) {
    this.dataSource = dataSource;
    this.executor =
        Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("metadata-", 0).factory());
  }

  /** Connects, applies pending Flyway migrations and returns the store. */
  public static MetadataStore open(MetadataConfig config) {
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(config.jdbcUrl());
    hikari.setUsername(config.user());
    hikari.setPassword(config.password());
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setPoolName("diskless-metadata");
    hikari.setAutoCommit(false);
    hikari.setConnectionTimeout(10_000);
    hikari.setInitializationFailTimeout(-1);
    hikari.setValidationTimeout(2_000);
    // A broker that cannot reach PostgreSQL must fail commits fast rather than hang its WAL.
    hikari.addDataSourceProperty("socketTimeout", "30");
    hikari.addDataSourceProperty("connectTimeout", "10");
    hikari.addDataSourceProperty("tcpKeepAlive", "true");
    HikariDataSource ds = new HikariDataSource(hikari);
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
    return new MetadataStore(ds);
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
    try (Connection c = dataSource.getConnection()) {
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      }
    } catch (SQLException e) {
      throw new StorageException(
          Kind.STORAGE_UNAVAILABLE,
          "metadata store error: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")",
          e);
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is broken; Hikari evicts it.
    }
  }

  @Override
  public void close() {
    executor.close();
    dataSource.close();
  }
}
