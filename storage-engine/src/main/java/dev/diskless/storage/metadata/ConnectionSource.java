package dev.diskless.storage.metadata;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** Where a {@link MetadataStore} gets its connections: Hikari's pool, or direct connections. */
interface ConnectionSource extends AutoCloseable {

  /** A connection with auto-commit off. */
  Connection borrow() throws SQLException;

  /**
   * Returns a borrowed connection; {@code reusable} is false when it may be broken (an SQL error or
   * a failed rollback).
   */
  void giveBack(Connection c, boolean reusable);

  @Override
  void close();

  static ConnectionSource pooled(HikariDataSource pool) {
    return new ConnectionSource() {
      @Override
      public Connection borrow() throws SQLException {
        return pool.getConnection();
      }

      @Override
      public void giveBack(Connection c, boolean reusable) {
        // Hikari checks and evicts broken connections itself.
        DirectConnections.closeQuietly(c);
      }

      @Override
      public void close() {
        pool.close();
      }
    };
  }
}
