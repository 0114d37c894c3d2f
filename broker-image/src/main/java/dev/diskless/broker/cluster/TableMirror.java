package dev.diskless.broker.cluster;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a broker's copy of one small metadata table (ACLs, client quotas) in step with PostgreSQL:
 * every row is read and handed to {@code install} when the table's change notice is heard ({@link
 * #reload()}), every few seconds while notices are not heard, and again after a reload that failed,
 * so that a change made through another broker (an ACL removed) never stays unseen here until the
 * next one. Reloads run one after another, so the rows installed last are the rows read last.
 *
 * @param <T> a row
 */
public final class TableMirror<T> implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TableMirror.class);

  /** How often rows are read while notices are not heard or the last reload failed. */
  private static final long POLL_MS = 5_000;

  private final String what;
  private final Supplier<CompletableFuture<List<T>>> read;
  private final Consumer<List<T>> install;
  private final ScheduledExecutorService poller;
  private CompletableFuture<Void> lastReload = CompletableFuture.completedFuture(null);
  private volatile boolean stale;

  /**
   * Reads the rows once and installs them before returning; fails if they cannot be read.
   *
   * @param what the table, for thread names and logs
   */
  public TableMirror(
      String what, Supplier<CompletableFuture<List<T>>> read, Consumer<List<T>> install) {
    this.what = what;
    this.read = read;
    this.install = install;
    install.accept(read.get().join());
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name(what + "-reload").daemon().factory());
  }

  /** Reads the rows again while {@code listening} is false, and after a failed reload. */
  public void pollWhileNotHearing(BooleanSupplier listening) {
    poller.scheduleWithFixedDelay(
        () -> {
          if (stale || !listening.getAsBoolean()) {
            reload();
          }
        },
        POLL_MS,
        POLL_MS,
        TimeUnit.MILLISECONDS);
  }

  /** Reads every row and installs them; completes once they are installed. */
  public synchronized CompletableFuture<Void> reload() {
    CompletableFuture<Void> next =
        lastReload.exceptionally(t -> null).thenCompose(v -> read.get()).thenAccept(install);
    next.whenComplete(
        (v, t) -> {
          stale = t != null;
          if (t != null) {
            LOG.warn(
                "could not read {}, keeping the ones loaded and trying again: {}",
                what,
                t.toString());
          }
        });
    lastReload = next;
    return next;
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
