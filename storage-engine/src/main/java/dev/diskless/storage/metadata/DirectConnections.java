package dev.diskless.storage.metadata;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Connections opened on demand with every step time-boxed, keeping one idle connection for the next
 * use: what lease renewals need, where a pool's waiting and reconnection backoff would eat the
 * lease. A use that finds the kept connection taken (an earlier use stuck on a stalled server) or
 * broken opens a new one at once.
 */
final class DirectConnections implements ConnectionSource {

  private final String url;
  private final Properties properties = new Properties();
  private final AtomicReference<Connection> idle = new AtomicReference<>();
  private volatile boolean closed;

  DirectConnections(MetadataConfig config, Duration timeout) {
    long ms = Math.max(100, timeout.toMillis());
    // pgjdbc takes these in whole seconds; the statement timeout is exact.
    String seconds = Long.toString(Math.max(1, (ms + 999) / 1000));
    url = config.jdbcUrl();
    properties.setProperty("user", config.user());
    properties.setProperty("password", config.password());
    properties.setProperty("connectTimeout", seconds);
    properties.setProperty("loginTimeout", seconds);
    properties.setProperty("socketTimeout", seconds);
    properties.setProperty("tcpKeepAlive", "true");
    properties.setProperty("options", ServerSessionSettings.options("-c statement_timeout=" + ms));
  }

  @Override
  public Connection borrow() throws SQLException {
    Connection c = idle.getAndSet(null);
    if (c != null) {
      return c;
    }
    c = DriverManager.getConnection(url, properties);
    c.setAutoCommit(false);
    return c;
  }

  @Override
  public void giveBack(Connection c, boolean reusable) {
    if (!reusable || closed || !idle.compareAndSet(null, c)) {
      closeQuietly(c);
    }
  }

  @Override
  public void close() {
    closed = true;
    Connection c = idle.getAndSet(null);
    if (c != null) {
      closeQuietly(c);
    }
  }

  static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // Already broken: nothing to release.
    }
  }
}
