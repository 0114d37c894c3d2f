package dev.diskless.broker.cluster;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
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
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's one controller, whichever broker holds the controller lease: gives partitions
 * without a live owner to the least-loaded live broker (failover: the epoch bump fences the old
 * owner), drops move requests that can no longer happen, and balances ownership by requesting
 * moves, which the owners carry out as clean hand-overs. Balance is per topic (a topic's partitions
 * spread over the brokers, ties broken by total load) and gradual: at most {@link
 * #MAX_MOVES_PER_PASS} new moves per pass. Draining brokers get nothing and are emptied.
 *
 * <p>Decisions are requests and conditional updates (ownership is only acquired from dead owners,
 * hand-overs check epochs), so a controller that lost its lease without knowing it can only make a
 * redundant request, never a conflicting write.
 */
public final class Controller {

  private static final Logger LOG = LoggerFactory.getLogger(Controller.class);
  static final int MAX_MOVES_PER_PASS = 16;

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
    List<Integer> targets = new ArrayList<>();
    for (BrokerInfo b : snapshot.brokers()) {
      if (!b.draining()) {
        targets.add(b.nodeId());
      }
    }
    if (targets.isEmpty()) {
      return false;
    }
    Load load = new Load(snapshot, targets);
    boolean changed = assignOrphans(snapshot, load);
    changed |= dropStaleMoves(snapshot);
    changed |= balance(snapshot, load);
    return changed;
  }

  /** Gives up the lease (clean shutdown) so another broker takes over at once. */
  public void resign() {
    lease.release(nodeId).exceptionally(t -> null).join();
  }

  private boolean assignOrphans(ClusterView.Snapshot snapshot, Load load) {
    List<CompletableFuture<?>> assigned = new ArrayList<>();
    for (PartitionMetadata p : sorted(snapshot.partitions().values())) {
      if (snapshot.liveOwner(p.partition()).isPresent()) {
        continue;
      }
      int target = load.preferred(p.partition()).orElse(load.leastLoaded(p.partition().topicId()));
      load.add(p.partition().topicId(), target);
      assigned.add(
          ownership
              .acquire(p.partition(), target)
              .handle(
                  (m, t) -> {
                    if (t == null) {
                      LOG.info(
                          "partition={} epoch={} assigned to node {} (was {})",
                          p.partition(),
                          m.leaderEpoch(),
                          target,
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

  private boolean balance(ClusterView.Snapshot snapshot, Load load) {
    int requested = 0;
    List<CompletableFuture<?>> writes = new ArrayList<>();
    // Operator placements first: a partition whose preferred owner is back goes home.
    for (var e : new java.util.TreeMap<>(snapshot.preferredOwners()).entrySet()) {
      TopicPartitionId tp = e.getKey();
      OptionalInt owner = snapshot.liveOwner(tp);
      if (requested < MAX_MOVES_PER_PASS
          && load.isTarget(e.getValue())
          && owner.isPresent()
          && owner.getAsInt() != e.getValue()
          && !snapshot.moves().containsKey(tp)) {
        requested++;
        LOG.info("partition={} move back to its preferred owner {} requested", tp, e.getValue());
        writes.add(moves.request(tp, e.getValue()));
        snapshot = withMove(snapshot, tp, e.getValue());
      }
    }
    for (TopicInfo topic : sortedTopics(snapshot)) {
      while (requested < MAX_MOVES_PER_PASS) {
        // A draining broker's partitions all go; otherwise even out the topic's spread.
        TopicPartitionId candidate = null;
        int to = -1;
        for (PartitionMetadata p : sorted(partitionsOf(snapshot, topic))) {
          OptionalInt owner = snapshot.liveOwner(p.partition());
          if (owner.isEmpty()
              || snapshot.moves().containsKey(p.partition())
              || load.preferred(p.partition()).isPresent()) {
            continue;
          }
          int from = owner.getAsInt();
          int least = load.leastLoaded(topic.topicId());
          boolean draining = !load.isTarget(from);
          if (draining
              || load.count(topic.topicId(), from) - load.count(topic.topicId(), least) > 1) {
            candidate = p.partition();
            to = least;
            load.move(topic.topicId(), from, least);
            break;
          }
        }
        if (candidate == null) {
          break;
        }
        requested++;
        LOG.info("partition={} move to node {} requested for balance", candidate, to);
        writes.add(moves.request(candidate, to));
        // Seen as already moved by the rest of this pass.
        snapshot = withMove(snapshot, candidate, to);
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
        s.controller());
  }

  private static List<PartitionMetadata> partitionsOf(ClusterView.Snapshot s, TopicInfo topic) {
    List<PartitionMetadata> out = new ArrayList<>();
    for (int p = 0; p < topic.partitionCount(); p++) {
      PartitionMetadata m = s.partitions().get(new TopicPartitionId(topic.topicId(), p));
      if (m != null) {
        out.add(m);
      }
    }
    return out;
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

  /**
   * Partitions per broker, overall and per topic, counting each partition where it is headed (a
   * requested move counts at its target).
   */
  private static final class Load {
    private final List<Integer> targets;
    private final Map<TopicPartitionId, Integer> preferredOwners;
    private final Map<Integer, Integer> total = new HashMap<>();
    private final Map<java.util.UUID, Map<Integer, Integer>> perTopic = new HashMap<>();

    Load(ClusterView.Snapshot s, List<Integer> targets) {
      this.targets = targets;
      this.preferredOwners = s.preferredOwners();
      for (PartitionMetadata p : s.partitions().values()) {
        Integer moving = s.moves().get(p.partition());
        OptionalInt owner = s.liveOwner(p.partition());
        if (moving != null && s.broker(moving).isPresent()) {
          add(p.partition().topicId(), moving);
        } else if (owner.isPresent()) {
          add(p.partition().topicId(), owner.getAsInt());
        }
      }
    }

    /** The operator's placement of {@code tp}, if that broker can take it now. */
    OptionalInt preferred(TopicPartitionId tp) {
      Integer node = preferredOwners.get(tp);
      return node != null && isTarget(node) ? OptionalInt.of(node) : OptionalInt.empty();
    }

    boolean isTarget(int node) {
      return targets.contains(node);
    }

    int count(java.util.UUID topic, int node) {
      return perTopic.getOrDefault(topic, Map.of()).getOrDefault(node, 0);
    }

    void add(java.util.UUID topic, int node) {
      total.merge(node, 1, Integer::sum);
      perTopic.computeIfAbsent(topic, t -> new HashMap<>()).merge(node, 1, Integer::sum);
    }

    void move(java.util.UUID topic, int from, int to) {
      total.merge(from, -1, Integer::sum);
      perTopic.computeIfAbsent(topic, t -> new HashMap<>()).merge(from, -1, Integer::sum);
      add(topic, to);
    }

    /** The target broker with the fewest of this topic's partitions, then the fewest overall. */
    int leastLoaded(java.util.UUID topic) {
      return targets.stream()
          .min(
              Comparator.<Integer>comparingInt(n -> count(topic, n))
                  .thenComparingInt(n -> total.getOrDefault(n, 0))
                  .thenComparingInt(n -> n))
          .orElseThrow();
    }
  }
}
