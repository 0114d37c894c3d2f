package dev.diskless.operator.reconciler.cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Clients shared by whoever needs the same one (the same key), counted: the first {@link #acquire}
 * of a key builds its client, each holder {@link #release}s it once, and the last release closes
 * it. This is how clusters with the same store and credentials share one S3 client, and how a
 * client no cluster uses any more is closed rather than left to the garbage collector.
 *
 * @param <K> what makes two clients interchangeable
 * @param <C> the client
 */
final class SharedClients<K, C extends AutoCloseable> {

  private static final Logger LOG = Logger.getLogger(SharedClients.class);

  private static final class Held<C> {
    final C client;
    int holders;

    Held(C client) {
      this.client = client;
    }
  }

  private final Map<K, Held<C>> clients = new HashMap<>();

  /** The client of {@code key}, built by {@code build} if nobody holds it; release it once. */
  synchronized C acquire(K key, Supplier<C> build) {
    Held<C> held = clients.computeIfAbsent(key, k -> new Held<>(build.get()));
    held.holders++;
    return held.client;
  }

  /** The client of {@code key} if someone holds it, for a holder using it again. */
  synchronized C get(K key) {
    Held<C> held = clients.get(key);
    return held == null ? null : held.client;
  }

  /** One holder of {@code key} is done with it; the last one closes the client. */
  void release(K key) {
    C closing = null;
    synchronized (this) {
      Held<C> held = clients.get(key);
      if (held == null) {
        return;
      }
      if (--held.holders == 0) {
        clients.remove(key);
        closing = held.client;
      }
    }
    // Outside the lock: closing may take a moment, and others need not wait for it.
    if (closing != null) {
      close(closing);
    }
  }

  /** How many clients are open: for tests and metrics. */
  synchronized int open() {
    return clients.size();
  }

  /** Closes every client, whoever holds it: the operator is stopping. */
  void closeAll() {
    Map<K, Held<C>> all;
    synchronized (this) {
      all = new HashMap<>(clients);
      clients.clear();
    }
    all.values().forEach(h -> close(h.client));
  }

  private static void close(AutoCloseable client) {
    try {
      client.close();
    } catch (Exception e) {
      LOG.debugf("closing a shared client failed: %s", e.getMessage());
    }
  }
}
