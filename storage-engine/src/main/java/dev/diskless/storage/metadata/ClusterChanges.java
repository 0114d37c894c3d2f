package dev.diskless.storage.metadata;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a broker when the cluster picture it caches (brokers, topics, owners, moves, the
 * controller) has changed, so that it refreshes then rather than polling: one connection of its own
 * LISTENs on the channel that the metadata's triggers notify (migration V016). Whenever the
 * connection is lost notifications may have been missed, so {@code onChange} runs then too, and
 * again once listening resumes; while {@link #listening()} is false the caller must poll.
 */
public final class ClusterChanges implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterChanges.class);

  /** The channel the triggers notify. */
  public static final String CHANNEL = "diskless_cluster";

  /** How long one wait for notifications lasts; a quiet connection is checked this often. */
  private static final int WAIT_MS = 10_000;

  private static final long MAX_BACKOFF_MS = 5_000;

  private final String url;
  private final Properties properties = new Properties();
  private final Consumer<Changed> onChange;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean listening;
  private volatile boolean closed;
  private volatile Connection connection;

  /**
   * What changed: the tables whose triggers notified, or {@code everything} when notifications may
   * have been missed (the listener connected or lost its connection).
   */
  public record Changed(Set<String> tables, boolean everything) {

    static final Changed EVERYTHING = new Changed(Set.of(), true);

    /** Whether {@code table} may have changed. */
    public boolean includes(String table) {
      return everything || tables.contains(table);
    }

    /** Whether a table other than {@code others} may have changed. */
    public boolean includesOtherThan(Set<String> others) {
      return everything || tables.stream().anyMatch(t -> !others.contains(t));
    }
  }

  public ClusterChanges(MetadataConfig config, Consumer<Changed> onChange) {
    this.url = config.jdbcUrl();
    this.onChange = onChange;
    properties.setProperty("user", config.user());
    properties.setProperty("password", config.password());
    properties.setProperty("connectTimeout", "5");
    properties.setProperty("loginTimeout", "5");
    // Longer than one wait: a dead server is noticed by the socket timeout or keep-alive.
    properties.setProperty("socketTimeout", Integer.toString(WAIT_MS / 1000 * 3));
    properties.setProperty("tcpKeepAlive", "true");
    properties.setProperty("ApplicationName", "diskless-cluster-changes");
    this.thread = Thread.ofPlatform().name("cluster-changes").daemon().unstarted(this::run);
  }

  public ClusterChanges start() {
    thread.start();
    return this;
  }

  /** Whether changes are being heard now; if not, the caller cannot rely on {@code onChange}. */
  public boolean listening() {
    return listening;
  }

  private void run() {
    long backoff = 100;
    try {
      while (!closed) {
        try (Connection c = DriverManager.getConnection(url, properties)) {
          connection = c;
          c.setAutoCommit(true);
          try (Statement s = c.createStatement()) {
            s.execute("LISTEN " + CHANNEL);
          }
          listening = true;
          backoff = 100;
          LOG.info("listening for cluster changes on {}", CHANNEL);
          // Whatever changed while nobody listened.
          changed(Changed.EVERYTHING);
          PGConnection pg = c.unwrap(PGConnection.class);
          while (!closed) {
            PGNotification[] notes = pg.getNotifications(WAIT_MS);
            if (notes != null && notes.length > 0) {
              Set<String> tables = new HashSet<>();
              for (PGNotification n : notes) {
                tables.add(n.getParameter());
              }
              changed(new Changed(Set.copyOf(tables), false));
            } else {
              // A quiet channel: make sure the connection is alive rather than silently gone.
              try (Statement s = c.createStatement()) {
                s.execute("SELECT 1");
              }
            }
          }
        } catch (SQLException | RuntimeException e) {
          if (closed) {
            break;
          }
          if (listening) {
            LOG.warn(
                "lost the cluster-change listener, polling until it is back: {}", e.toString());
          } else {
            LOG.debug("cluster-change listener not connected: {}", e.toString());
          }
        } finally {
          connection = null;
        }
        boolean wasListening = listening;
        listening = false;
        if (wasListening) {
          changed(Changed.EVERYTHING);
        }
        if (!closed) {
          try {
            TimeUnit.MILLISECONDS.sleep(backoff);
          } catch (InterruptedException e) {
            break;
          }
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
      }
    } finally {
      listening = false;
      stopped.countDown();
    }
  }

  private void changed(Changed changed) {
    try {
      onChange.accept(changed);
    } catch (RuntimeException e) {
      LOG.warn("cluster-change callback failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    Connection c = connection;
    if (c != null) {
      try {
        // Unblocks a wait in progress.
        c.abort(Runnable::run);
      } catch (SQLException | RuntimeException e) {
        LOG.debug("closing the cluster-change connection: {}", e.toString());
      }
    }
    if (!thread.isAlive()) {
      return;
    }
    thread.interrupt();
    try {
      stopped.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
