package dev.diskless.broker.cluster;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionMoves;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the storage engine's owned partitions equal to what metadata says this node owns: opens new
 * ones (loading their state from metadata alone) and forgets ones that moved. On the broker holding
 * the controller lease it first runs the {@link Controller}. Requested moves of partitions this
 * broker owns are carried out as clean hand-overs, including of partitions it is still opening.
 *
 * <p>Passes run every {@code periodMs} when nothing is in flight, and every {@link #BUSY_PERIOD_MS}
 * while moves are requested or partitions are being opened or handed over: a move takes three
 * passes on two brokers (request, hand-over, open), so the busy rate is what makes a scale-out's
 * ownership move take a second rather than several, at no metadata cost in steady state.
 */
public final class OwnershipSync implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OwnershipSync.class);

  /** Time between passes while ownership is changing. */
  static final long BUSY_PERIOD_MS = 50;

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

  public OwnershipSync start(long periodMs) {
    scheduler.execute(() -> runAndReschedule(periodMs));
    return this;
  }

  private void runAndReschedule(long periodMs) {
    boolean busy = false;
    try {
      busy = runOnce();
    } catch (RuntimeException e) {
      LOG.warn("node={} ownership sync failed: {}", nodeId, e.toString());
    }
    try {
      scheduler.schedule(
          () -> runAndReschedule(periodMs),
          busy ? Math.min(BUSY_PERIOD_MS, periodMs) : periodMs,
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // close() ran: no more passes.
    }
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
  }
}
