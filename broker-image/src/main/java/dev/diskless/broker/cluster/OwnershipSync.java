package dev.diskless.broker.cluster;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.ClusterChanges;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionMoves;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the storage engine's owned partitions equal to what metadata says this node owns: opens new
 * ones (loading their state from metadata alone) and forgets ones that moved. On the broker holding
 * the controller lease it first runs the {@link Controller}. Requested moves of partitions this
 * broker owns are carried out as clean hand-overs, including of partitions it is still opening.
 *
 * <p>Passes run every {@link #BUSY_PERIOD_MS} while moves are requested or partitions are being
 * opened or handed over: a move takes three passes on two brokers (request, hand-over, open), so
 * the busy rate is what makes a scale-out's ownership move take a second rather than several. When
 * nothing is moving, a broker that hears of metadata changes ({@link #clusterChanged()}, fed by
 * {@code ClusterChanges}) runs a pass only when told of one, when a lease it watches runs out (the
 * controller watches every broker's, the others the controller's) and every {@link
 * #QUIET_PERIOD_MS} as a safety net; in between the controller only renews its lease. An idle
 * cluster then costs a few metadata queries a minute per broker instead of twenty a second. A
 * broker that cannot hear changes (no listener, or its connection is down) runs a full pass every
 * {@code periodMs}.
 */
public final class OwnershipSync implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OwnershipSync.class);

  /** Time between passes while ownership is changing. */
  static final long BUSY_PERIOD_MS = 50;

  /** The longest time without a full pass while changes are heard: a lost notification's cost. */
  static final long QUIET_PERIOD_MS = 30_000;

  /** How long after a lease's end a pass looks: its holder's renewal may be committing then. */
  static final long EXPIRY_SLACK_MS = 200;

  private final int nodeId;
  private final ClusterView view;
  private final Controller controller;
  private final PartitionMoves moves;
  private final StorageEngine engine;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("ownership-sync").daemon().factory());
  private final Set<TopicPartitionId> opening = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Set<TopicPartitionId> moving = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final List<Runnable> ownedChanged = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicBoolean changed =
      new java.util.concurrent.atomic.AtomicBoolean(true);
  private final java.util.concurrent.atomic.AtomicBoolean passQueued =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile BooleanSupplier listening = () -> false;
  private volatile ClusterChanges changes;
  // Scheduler thread only.
  private java.util.concurrent.ScheduledFuture<?> next;
  private long periodMs = 300;
  private long lastFullPassMs;
  private boolean busy;

  public OwnershipSync(
      int nodeId,
      ClusterView view,
      Controller controller,
      PartitionMoves moves,
      StorageEngine engine) {
    this.nodeId = nodeId;
    this.view = view;
    this.controller = controller;
    this.moves = moves;
    this.engine = engine;
  }

  /**
   * Called after every pass and whenever a partition finished opening, so that services riding on
   * ownership (the group coordinator) follow it.
   */
  public OwnershipSync onOwnedChanged(Runnable listener) {
    ownedChanged.add(listener);
    return this;
  }

  private void notifyOwnedChanged() {
    for (Runnable r : ownedChanged) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.warn("node={} ownership listener failed: {}", nodeId, e.toString());
      }
    }
  }

  /**
   * Hears metadata changes from {@code changes} (not started yet: {@link #start} starts it), which
   * must call {@link #clusterChanged()}; while it is not listening, passes run every {@code
   * periodMs}. Closed with this.
   */
  public OwnershipSync hearingChangesFrom(ClusterChanges changes) {
    this.changes = changes;
    this.listening = changes::listening;
    return this;
  }

  public OwnershipSync start(long periodMs) {
    scheduler.execute(
        () -> {
          this.periodMs = periodMs;
          passAndReschedule();
        });
    ClusterChanges c = changes;
    if (c != null) {
      c.start();
    }
    return this;
  }

  /**
   * Metadata this node caches changed (or changes may have been missed): a full pass runs now, once
   * for any number of calls made before it starts.
   */
  public void clusterChanged() {
    changed.set(true);
    if (passQueued.compareAndSet(false, true)) {
      try {
        scheduler.execute(
            () -> {
              if (next != null) {
                next.cancel(false);
              }
              passAndReschedule();
            });
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        // close() ran.
      }
    }
  }

  private void passAndReschedule() {
    passQueued.set(false);
    long delay;
    try {
      busy = pass();
      delay = busy ? Math.min(BUSY_PERIOD_MS, periodMs) : quietDelayMs();
    } catch (RuntimeException e) {
      LOG.warn("node={} ownership sync failed: {}", nodeId, e.toString());
      busy = false;
      // The next pass is a full one, at the polling rate: the database may be down.
      changed.set(true);
      delay = periodMs;
    }
    try {
      next = scheduler.schedule(this::passAndReschedule, delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // close() ran: no more passes.
    }
  }

  /**
   * A full pass if anything may have changed; otherwise only what leases need: the controller
   * renews its own and looks at brokers whose leases end, the others at the controller's.
   */
  private boolean pass() {
    long now = System.currentTimeMillis();
    boolean full =
        busy
            || !listening.getAsBoolean()
            // Reset before the refresh: a change committed during it comes with a new notice.
            || changed.getAndSet(false)
            || now - lastFullPassMs >= QUIET_PERIOD_MS
            || !quietCheck(now);
    if (!full) {
      return false;
    }
    lastFullPassMs = now;
    return runOnce();
  }

  /** Returns whether the picture still holds without a full pass. */
  private boolean quietCheck(long now) {
    ClusterView.Snapshot s = view.current();
    if (controller.holding()) {
      if (!controller.renew()) {
        return false;
      }
      boolean expiring =
          s.brokers().stream().anyMatch(b -> b.leaseExpiresAt().toEpochMilli() <= now);
      return !expiring || sameBrokers(s, view.refreshBrokers().join());
    }
    var lease = s.controllerLease();
    if (lease.isEmpty()) {
      return false;
    }
    if (lease.get().expiresAt().toEpochMilli() > now) {
      return true;
    }
    var renewed = view.refreshControllerLease().join().controllerLease();
    return renewed.isPresent() && renewed.get().node() == lease.get().node();
  }

  /** Same brokers, registrations and states: only lease ends moved. */
  private static boolean sameBrokers(ClusterView.Snapshot before, ClusterView.Snapshot after) {
    if (before.brokers().size() != after.brokers().size()) {
      return false;
    }
    for (int i = 0; i < before.brokers().size(); i++) {
      var a = before.brokers().get(i);
      var b = after.brokers().get(i);
      if (a.nodeId() != b.nodeId()
          || a.brokerEpoch() != b.brokerEpoch()
          || a.serving() != b.serving()
          || a.draining() != b.draining()) {
        return false;
      }
    }
    return true;
  }

  /** Until the next pass when nothing is moving. */
  private long quietDelayMs() {
    if (!listening.getAsBoolean()) {
      return periodMs;
    }
    long now = System.currentTimeMillis();
    long delay = QUIET_PERIOD_MS - (now - lastFullPassMs);
    ClusterView.Snapshot s = view.current();
    if (controller.holding()) {
      delay = Math.min(delay, controller.renewalInterval().toMillis());
      for (var b : s.brokers()) {
        delay = Math.min(delay, b.leaseExpiresAt().toEpochMilli() - now + EXPIRY_SLACK_MS);
      }
    } else if (s.controllerLease().isPresent()) {
      delay =
          Math.min(
              delay, s.controllerLease().get().expiresAt().toEpochMilli() - now + EXPIRY_SLACK_MS);
    } else {
      delay = periodMs;
    }
    return Math.max(Math.min(periodMs, BUSY_PERIOD_MS), delay);
  }

  /**
   * One pass: refresh the view, act as controller if this node holds the lease, then open, drop and
   * hand over partitions as metadata says. Returns whether ownership is still changing (moves
   * requested, or partitions of this node opening or being handed over).
   */
  public boolean runOnce() {
    ClusterView.Snapshot snapshot = view.refresh().join();
    boolean controllerActed = controller.runOnce(snapshot);
    if (controllerActed) {
      snapshot = view.refresh().join();
    }
    handOverRequested(snapshot);
    for (PartitionMetadata p : snapshot.partitions().values()) {
      TopicPartitionId tp = p.partition();
      boolean mine = p.owner().isPresent() && p.owner().getAsInt() == nodeId;
      var local = engine.logs().local(tp);
      if (mine
          && (local.isEmpty() || local.get().leaderEpoch() < p.leaderEpoch())
          && !moving.contains(tp)
          && opening.add(tp)) {
        engine
            .logs()
            .open(tp)
            .whenComplete(
                (m, t) -> {
                  opening.remove(tp);
                  notifyOwnedChanged();
                  Throwable cause = StorageException.unwrap(t);
                  if (cause instanceof StorageException se
                      && se.kind() == StorageException.Kind.NOT_OWNER) {
                    // It moved on since this pass read metadata; the next pass sees that.
                    LOG.debug("partition={} not opened: {}", tp, se.getMessage());
                  } else if (t != null) {
                    LOG.warn(
                        "partition={} could not be opened on node {}: {}",
                        tp,
                        nodeId,
                        t.toString());
                  }
                });
      } else if (!mine && local.isPresent()) {
        engine.logs().release(tp);
      }
    }
    // Partitions of deleted topics are no longer in the picture at all.
    for (TopicPartitionId tp : engine.logs().ownedPartitions()) {
      if (!snapshot.partitions().containsKey(tp)) {
        engine.logs().release(tp);
      }
    }
    notifyOwnedChanged();
    return controllerActed
        || !snapshot.moves().isEmpty()
        || !opening.isEmpty()
        || !moving.isEmpty();
  }

  /** Carries out requested moves of partitions this node serves, each as a clean hand-over. */
  private void handOverRequested(ClusterView.Snapshot snapshot) {
    snapshot
        .moves()
        .forEach(
            (tp, target) -> {
              PartitionMetadata p = snapshot.partitions().get(tp);
              boolean mine = p != null && p.owner().isPresent() && p.owner().getAsInt() == nodeId;
              boolean usable = snapshot.acceptsPartitions(target);
              if (!mine || target == nodeId || !usable) {
                return;
              }
              if (!moving.add(tp)) {
                return;
              }
              // One still opening here is passed on at once rather than after its open.
              engine
                  .logs()
                  .handOver(tp, p.leaderEpoch(), target)
                  .thenCompose(m -> moves.done(tp, target).thenApply(v -> m))
                  .whenComplete(
                      (m, t) -> {
                        moving.remove(tp);
                        notifyOwnedChanged();
                        Throwable cause = StorageException.unwrap(t);
                        if (cause instanceof StorageException se
                            && (se.kind() == StorageException.Kind.FENCED_EPOCH
                                || se.kind() == StorageException.Kind.NOT_OWNER)) {
                          // This pass's view was behind: it changed hands already.
                          LOG.info(
                              "partition={} not handed over to {}: {}",
                              tp,
                              target,
                              se.getMessage());
                        } else if (t != null) {
                          LOG.warn(
                              "partition={} hand-over from node {} to {} failed: {}",
                              tp,
                              nodeId,
                              target,
                              t.toString());
                        } else {
                          LOG.info(
                              "partition={} epoch={} handed over from node {} to {}",
                              tp,
                              m.leaderEpoch(),
                              nodeId,
                              target);
                        }
                      });
            });
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    ClusterChanges c = changes;
    if (c != null) {
      c.close();
    }
  }
}
