package dev.diskless.broker.cluster;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionOwnership;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the storage engine's owned partitions equal to what metadata says this node owns: opens new
 * ones (loading their state from metadata alone) and forgets ones that moved. On the broker with
 * the lowest live node id it also assigns partitions that have no live owner to live brokers,
 * round-robin. (A leased controller with balancing replaces this rule in a later slice.)
 */
public final class OwnershipSync implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OwnershipSync.class);

  private final int nodeId;
  private final ClusterView view;
  private final PartitionOwnership ownership;
  private final StorageEngine engine;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("ownership-sync").daemon().factory());
  private final Set<TopicPartitionId> opening = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final List<Runnable> ownedChanged = new java.util.concurrent.CopyOnWriteArrayList<>();

  public OwnershipSync(
      int nodeId, ClusterView view, PartitionOwnership ownership, StorageEngine engine) {
    this.nodeId = nodeId;
    this.view = view;
    this.ownership = ownership;
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
    scheduler.scheduleWithFixedDelay(this::runOnceQuietly, 0, periodMs, TimeUnit.MILLISECONDS);
    return this;
  }

  private void runOnceQuietly() {
    try {
      runOnce();
    } catch (RuntimeException e) {
      LOG.warn("node={} ownership sync failed: {}", nodeId, e.toString());
    }
  }

  /** One pass: refresh the view, assign orphans if this node leads, open and drop partitions. */
  public void runOnce() {
    ClusterView.Snapshot snapshot = view.refresh().join();
    List<BrokerInfo> live = snapshot.brokers();
    Set<Integer> liveIds = new HashSet<>();
    live.forEach(b -> liveIds.add(b.nodeId()));
    boolean leader = !live.isEmpty() && live.get(0).nodeId() == nodeId;
    if (leader) {
      int next = 0;
      List<java.util.concurrent.CompletableFuture<?>> assigned = new java.util.ArrayList<>();
      for (PartitionMetadata p : snapshot.partitions().values()) {
        if (p.owner().isEmpty() || !liveIds.contains(p.owner().getAsInt())) {
          int target = live.get(next++ % live.size()).nodeId();
          assigned.add(
              ownership
                  .acquire(p.partition(), target)
                  .handle(
                      (m, t) -> {
                        if (t == null) {
                          LOG.info(
                              "partition={} assigned to node {} (was {})",
                              p.partition(),
                              target,
                              p.owner());
                        } else {
                          LOG.debug("partition={} not assigned: {}", p.partition(), t.toString());
                        }
                        return null;
                      }));
        }
      }
      if (!assigned.isEmpty()) {
        java.util.concurrent.CompletableFuture.allOf(
                assigned.toArray(java.util.concurrent.CompletableFuture[]::new))
            .join();
        snapshot = view.refresh().join();
      }
    }
    for (PartitionMetadata p : snapshot.partitions().values()) {
      TopicPartitionId tp = p.partition();
      boolean mine = p.owner().isPresent() && p.owner().getAsInt() == nodeId;
      var local = engine.logs().local(tp);
      if (mine
          && (local.isEmpty() || local.get().leaderEpoch() < p.leaderEpoch())
          && opening.add(tp)) {
        engine
            .logs()
            .open(tp)
            .whenComplete(
                (m, t) -> {
                  opening.remove(tp);
                  notifyOwnedChanged();
                  if (t != null) {
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
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
