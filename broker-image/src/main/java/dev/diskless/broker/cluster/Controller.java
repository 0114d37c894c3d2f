package dev.diskless.broker.cluster;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.ControllerLease;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionMoves;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's one controller, whichever broker holds the controller lease: gives partitions
 * without a live owner to a live broker (failover: the epoch bump fences the old owner), drops move
 * requests that can no longer happen, and balances ownership by requesting moves, which the owners
 * carry out as clean hand-overs. Where partitions go is {@link PartitionPlacement}'s rule (per
 * topic, over zones first, then over the brokers of each zone); balance is gradual: at most {@link
 * #MAX_MOVES_PER_PASS} new moves per pass. Draining brokers get nothing and are emptied.
 *
 * <p>Decisions are requests and conditional updates (ownership is only acquired from dead owners,
 * hand-overs check epochs), so a controller that lost its lease without knowing it can only make a
 * redundant request, never a conflicting write.
 */
public final class Controller {

  private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

  /**
   * Enough for a scale-out of a few hundred partitions to move in one or two rounds (a round is a
   * controller pass, the owners' hand-overs and the new owners' opening), while a very large
   * cluster still rebalances in steps rather than all at once.
   */
  static final int MAX_MOVES_PER_PASS = 64;

  private final int nodeId;
  private final ControllerLease lease;
  private final PartitionOwnership ownership;
  private final PartitionMoves moves;
  private final Duration leaseDuration;
  private long heldEpoch = -1;

  public Controller(
      int nodeId,
      ControllerLease lease,
      PartitionOwnership ownership,
      PartitionMoves moves,
      Duration leaseDuration) {
    this.nodeId = nodeId;
    this.lease = lease;
    this.ownership = ownership;
    this.moves = moves;
    this.leaseDuration = leaseDuration;
  }

  /** One pass; returns true if it changed metadata (the caller refreshes its view). */
  public boolean runOnce(ClusterView.Snapshot snapshot) {
    OptionalLong epoch = lease.tryHold(nodeId, leaseDuration).join();
    if (epoch.isEmpty()) {
      heldEpoch = -1;
      return false;
    }
    if (epoch.getAsLong() != heldEpoch) {
      heldEpoch = epoch.getAsLong();
      LOG.info("node={} is the controller, epoch {}", nodeId, heldEpoch);
    }
    PartitionPlacement placement = PartitionPlacement.of(snapshot);
    if (!placement.hasTargets()) {
      return false;
    }
    boolean changed = assignOrphans(snapshot, placement);
    changed |= dropStaleMoves(snapshot);
    changed |= balance(snapshot, placement);
    return changed;
  }

  /** Whether this node held the controller lease at its last pass or renewal. */
  public boolean holding() {
    return heldEpoch >= 0;
  }

  /**
   * Renews the lease this node holds, without a pass (nothing changed); returns false if it is no
   * longer this node's, and the caller runs a full pass.
   */
  public boolean renew() {
    OptionalLong epoch = lease.tryHold(nodeId, leaseDuration).join();
    if (epoch.isEmpty() || epoch.getAsLong() != heldEpoch) {
      heldEpoch = -1;
      return false;
    }
    return true;
  }

  /** How often the holder renews its lease: a third of it, so one slow renewal loses nothing. */
  public Duration renewalInterval() {
    return leaseDuration.dividedBy(3);
  }

  /** Gives up the lease (clean shutdown) so another broker takes over at once. */
  public void resign() {
    lease.release(nodeId).exceptionally(t -> null).join();
  }

  private boolean assignOrphans(ClusterView.Snapshot snapshot, PartitionPlacement placement) {
    List<CompletableFuture<?>> assigned = new ArrayList<>();
    for (PartitionMetadata p : sorted(snapshot.partitions().values())) {
      if (snapshot.liveOwner(p.partition()).isPresent()) {
        continue;
      }
      int target = placement.assign(p.partition());
      assigned.add(
          ownership
              .acquire(p.partition(), target, p.leaderEpoch())
              .handle(
                  (m, t) -> {
                    if (t == null) {
                      LOG.info(
                          "partition={} epoch={} assigned to node {} (zone {}) (was {})",
                          p.partition(),
                          m.leaderEpoch(),
                          target,
                          zone(placement, target),
                          p.owner());
                    } else {
                      LOG.debug("partition={} not assigned: {}", p.partition(), t.toString());
                    }
                    return null;
                  }));
    }
    CompletableFuture.allOf(assigned.toArray(CompletableFuture[]::new)).join();
    return !assigned.isEmpty();
  }

  /** Moves whose target is gone or draining, or that already happened, or whose partition went. */
  private boolean dropStaleMoves(ClusterView.Snapshot snapshot) {
    List<CompletableFuture<?>> dropped = new ArrayList<>();
    snapshot
        .moves()
        .forEach(
            (tp, target) -> {
              OptionalInt owner = snapshot.liveOwner(tp);
              boolean targetUsable = snapshot.acceptsPartitions(target);
              boolean done = owner.isPresent() && owner.getAsInt() == target;
              if (done || !targetUsable || !snapshot.partitions().containsKey(tp)) {
                if (!done) {
                  LOG.info("partition={} move to node {} dropped: target not usable", tp, target);
                }
                dropped.add(moves.done(tp, target));
              }
            });
    CompletableFuture.allOf(dropped.toArray(CompletableFuture[]::new)).join();
    return !dropped.isEmpty();
  }

  private boolean balance(ClusterView.Snapshot snapshot, PartitionPlacement placement) {
    int requested = 0;
    List<CompletableFuture<?>> writes = new ArrayList<>();
    // Operator placements first: a partition whose preferred owner is back goes home.
    for (var e : new java.util.TreeMap<>(snapshot.preferredOwners()).entrySet()) {
      TopicPartitionId tp = e.getKey();
      OptionalInt owner = snapshot.liveOwner(tp);
      if (requested < MAX_MOVES_PER_PASS
          && placement.isTarget(e.getValue())
          && owner.isPresent()
          && owner.getAsInt() != e.getValue()
          && !snapshot.moves().containsKey(tp)) {
        requested++;
        LOG.info(
            "partition={} epoch={} move back to its preferred owner {} (zone {}) requested",
            tp,
            snapshot.partitions().get(tp).leaderEpoch(),
            e.getValue(),
            zone(placement, e.getValue()));
        writes.add(moves.request(tp, e.getValue()));
        snapshot = withMove(snapshot, tp, e.getValue());
      }
    }
    for (TopicInfo topic : sortedTopics(snapshot)) {
      while (requested < MAX_MOVES_PER_PASS) {
        // A draining broker's partitions all go; otherwise even out the topic's spread.
        Optional<PartitionPlacement.Move> move = placement.nextMove(topic.topicId());
        if (move.isEmpty()) {
          break;
        }
        TopicPartitionId candidate = move.get().partition();
        int to = move.get().to();
        requested++;
        LOG.info(
            "partition={} epoch={} move from node {} to node {} (zone {}) requested for balance",
            candidate,
            snapshot.partitions().get(candidate).leaderEpoch(),
            move.get().from(),
            to,
            zone(placement, to));
        writes.add(moves.request(candidate, to));
      }
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
    return requested > 0;
  }

  private static ClusterView.Snapshot withMove(
      ClusterView.Snapshot s, TopicPartitionId tp, int target) {
    Map<TopicPartitionId, Integer> m = new HashMap<>(s.moves());
    m.put(tp, target);
    return new ClusterView.Snapshot(
        s.brokers(),
        s.topicsByName(),
        s.topicsById(),
        s.partitions(),
        m,
        s.preferredOwners(),
        s.controllerLease());
  }

  private static List<TopicInfo> sortedTopics(ClusterView.Snapshot s) {
    List<TopicInfo> topics = new ArrayList<>(s.topicsById().values());
    topics.sort(Comparator.comparing(TopicInfo::name));
    return topics;
  }

  private static List<PartitionMetadata> sorted(java.util.Collection<PartitionMetadata> ps) {
    List<PartitionMetadata> out = new ArrayList<>(ps);
    out.sort(Comparator.comparing(PartitionMetadata::partition));
    return out;
  }

  /** A broker's zone for logs: its rack, or "none". */
  private static String zone(PartitionPlacement placement, int node) {
    return placement.rack(node).orElse("none");
  }
}
