package dev.diskless.broker.cluster;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.PartitionMetadata;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Where the controller puts partitions, decided from one snapshot of the cluster: each topic's
 * partitions are spread over zones (a broker's rack; a broker without one is a zone of its own) in
 * proportion to each zone's usable — live, started, not draining — brokers, then evenly over the
 * brokers inside each zone, ties broken by total load and then node id. Zones are apportioned with
 * the Sainte-Laguë (Webster) rule: a zone with {@code c} of the topic's partitions and {@code b}
 * usable brokers claims the next one with priority {@code (2c + 1) / b}, and a partition moves from
 * the busiest broker of the zone X furthest over its share (highest {@code (2cX - 1) / bX}) to the
 * zone Y with the strongest claim only while {@code (2cX - 1) / bX > (2cY + 1) / bY}, which
 * strictly lowers {@code Σ c² / b} so balancing always settles. With no racks every zone is one
 * broker and this is the per-broker rule (the busiest broker, while it has two more than the least
 * loaded, gives it one). Partitions count where they are headed (a requested move at its target);
 * operator placements (preferred owners) are never moved by balancing. Pure arithmetic over the
 * snapshot plus the decisions recorded so far in the pass: it reads and writes no metadata. New
 * topics' partitions get their first owners by the same rule ({@code TopicAssigner}), so that
 * balancing has nothing to undo after a create.
 */
public final class PartitionPlacement {

  /** A move balancing asks for. */
  record Move(TopicPartitionId partition, int from, int to) {}

  /** A zone: a rack, or the single broker {@code solo} that has none. */
  private record Zone(String rack, int solo) {}

  private final Map<Integer, Zone> zoneOfTarget = new HashMap<>();
  private final Map<Zone, List<Integer>> targetsOfZone = new HashMap<>();
  private final Map<Integer, Optional<String>> racks = new HashMap<>();
  private final Map<TopicPartitionId, Integer> preferredOwners;
  private final Map<UUID, List<TopicPartitionId>> partitionsOfTopic = new HashMap<>();
  private final Map<TopicPartitionId, Integer> liveOwners = new HashMap<>();
  private final Set<TopicPartitionId> moving = new HashSet<>();
  // Live brokers still starting: what they own stays theirs, they get nothing new yet.
  private final Set<Integer> starting = new HashSet<>();
  private final Map<Integer, Integer> total = new HashMap<>();
  private final Map<UUID, Map<Integer, Integer>> perTopic = new HashMap<>();

  private PartitionPlacement(ClusterView.Snapshot s) {
    for (BrokerInfo b : s.brokers()) {
      racks.put(b.nodeId(), b.rack());
      if (!b.serving() && !b.draining()) {
        starting.add(b.nodeId());
      }
      if (b.acceptsPartitions()) {
        Zone zone = new Zone(b.rack().orElse(null), b.rack().isPresent() ? -1 : b.nodeId());
        zoneOfTarget.put(b.nodeId(), zone);
        targetsOfZone.computeIfAbsent(zone, z -> new ArrayList<>()).add(b.nodeId());
      }
    }
    this.preferredOwners = s.preferredOwners();
    for (PartitionMetadata p : new TreeMap<>(s.partitions()).values()) {
      TopicPartitionId tp = p.partition();
      partitionsOfTopic.computeIfAbsent(tp.topicId(), t -> new ArrayList<>()).add(tp);
      OptionalInt owner = s.liveOwner(tp);
      owner.ifPresent(o -> liveOwners.put(tp, o));
      Integer target = s.moves().get(tp);
      if (target != null) {
        moving.add(tp);
      }
      if (target != null && s.broker(target).isPresent()) {
        add(tp.topicId(), target);
      } else if (owner.isPresent()) {
        add(tp.topicId(), owner.getAsInt());
      }
    }
  }

  public static PartitionPlacement of(ClusterView.Snapshot snapshot) {
    return new PartitionPlacement(snapshot);
  }

  /** Whether any broker can take partitions. */
  public boolean hasTargets() {
    return !zoneOfTarget.isEmpty();
  }

  /** Whether {@code node} can take partitions: live, started and not draining. */
  boolean isTarget(int node) {
    return zoneOfTarget.containsKey(node);
  }

  /** The rack of a live broker, for logs. */
  Optional<String> rack(int node) {
    return racks.getOrDefault(node, Optional.empty());
  }

  /** The operator's placement of {@code tp}, if that broker can take it now. */
  OptionalInt preferred(TopicPartitionId tp) {
    Integer node = preferredOwners.get(tp);
    return node != null && isTarget(node) ? OptionalInt.of(node) : OptionalInt.empty();
  }

  /** This topic's partitions headed to {@code node}. */
  int count(UUID topic, int node) {
    return perTopic.getOrDefault(topic, Map.of()).getOrDefault(node, 0);
  }

  /**
   * Chooses the owner of a partition without a live one — its preferred owner if usable, else the
   * broker {@link #target} names — and counts it there.
   */
  public int assign(TopicPartitionId tp) {
    int node = preferred(tp).orElse(target(tp.topicId()));
    add(tp.topicId(), node);
    return node;
  }

  /**
   * The next move that evens out {@code topic}, taking its partitions in order, and records it;
   * empty when the topic is balanced. Partitions without a live owner, already moving, placed by an
   * operator or owned by a broker still starting are left alone; a draining broker's partitions all
   * go.
   */
  Optional<Move> nextMove(UUID topic) {
    List<TopicPartitionId> partitions = partitionsOfTopic.getOrDefault(topic, List.of());
    if (partitions.isEmpty()) {
      return Optional.empty();
    }
    // Loads change only when a move is recorded, so the scan shares one target and one count.
    int target = target(topic);
    Map<Zone, Integer> counts = zoneCounts(topic);
    for (TopicPartitionId tp : partitions) {
      Integer from = liveOwners.get(tp);
      if (from == null
          || moving.contains(tp)
          || preferred(tp).isPresent()
          || starting.contains(from)) {
        continue;
      }
      OptionalInt to = betterOwner(topic, from, target, counts);
      if (to.isPresent()) {
        moving.add(tp);
        total.merge(from, -1, Integer::sum);
        perTopic.get(topic).merge(from, -1, Integer::sum);
        add(topic, to.getAsInt());
        return Optional.of(new Move(tp, from, to.getAsInt()));
      }
    }
    return Optional.empty();
  }

  /**
   * The usable broker a new partition of {@code topic} should go to: in the zone with the strongest
   * claim (lowest {@code (2c + 1) / b}), the broker with the fewest of the topic's partitions, then
   * the fewest overall, then the lowest node id.
   */
  int target(UUID topic) {
    Map<Zone, Integer> zoneCounts = zoneCounts(topic);
    return zoneOfTarget.keySet().stream()
        .min(
            Comparator.<Integer, Zone>comparing(
                    zoneOfTarget::get, (a, b) -> compareClaims(a, b, zoneCounts))
                .thenComparing(brokerOrder(topic)))
        .orElseThrow(() -> new IllegalStateException("no broker can take partitions"));
  }

  /**
   * Where a partition of {@code topic} owned by {@code from} should go instead, if anywhere; {@code
   * to} is {@link #target} and {@code counts} the {@link #zoneCounts} of the current loads.
   */
  private OptionalInt betterOwner(UUID topic, int from, int to, Map<Zone, Integer> counts) {
    if (!isTarget(from)) {
      return OptionalInt.of(to);
    }
    Zone zone = zoneOfTarget.get(from);
    if (!isBusiest(topic, from, zone)) {
      return OptionalInt.empty();
    }
    Zone toZone = zoneOfTarget.get(to);
    // Only the zone furthest over its share gives, or a zone giving early could end up below its
    // share and have to be refilled by more moves. Without racks, the busiest broker gives to the
    // least loaded: a new broker takes its share from the brokers over theirs, and no partition
    // moves to a broker that is giving others away.
    if (!toZone.equals(zone) && isFurthestOver(zone, counts)) {
      long giving = 2L * counts.get(zone) - 1;
      long taking = 2L * counts.get(toZone) + 1;
      if (giving * size(toZone) > taking * size(zone)) {
        return OptionalInt.of(to);
      }
    }
    int least = targetsOfZone.get(zone).stream().min(brokerOrder(topic)).orElseThrow();
    return count(topic, from) - count(topic, least) > 1
        ? OptionalInt.of(least)
        : OptionalInt.empty();
  }

  /** Whether no zone's last partition has a weaker claim than this zone's: max (2c - 1) / b. */
  private boolean isFurthestOver(Zone zone, Map<Zone, Integer> counts) {
    long own = 2L * counts.get(zone) - 1;
    return targetsOfZone.keySet().stream()
        .allMatch(z -> (2L * counts.get(z) - 1) * size(zone) <= own * size(z));
  }

  /** A zone gives from its busiest broker so that it does not become uneven inside. */
  private boolean isBusiest(UUID topic, int node, Zone zone) {
    int own = count(topic, node);
    return targetsOfZone.get(zone).stream().allMatch(n -> count(topic, n) <= own);
  }

  private Comparator<Integer> brokerOrder(UUID topic) {
    return Comparator.<Integer>comparingInt(n -> count(topic, n))
        .thenComparingInt(n -> total.getOrDefault(n, 0))
        .thenComparingInt(n -> n);
  }

  /** Compares {@code (2c + 1) / b} of two zones without division. */
  private int compareClaims(Zone a, Zone b, Map<Zone, Integer> counts) {
    long left = (2L * counts.get(a) + 1) * size(b);
    long right = (2L * counts.get(b) + 1) * size(a);
    return Long.compare(left, right);
  }

  private int size(Zone zone) {
    return targetsOfZone.get(zone).size();
  }

  /** The topic's partitions headed to each zone's usable brokers. */
  private Map<Zone, Integer> zoneCounts(UUID topic) {
    Map<Zone, Integer> counts = new HashMap<>();
    targetsOfZone.forEach(
        (zone, nodes) -> counts.put(zone, nodes.stream().mapToInt(n -> count(topic, n)).sum()));
    return counts;
  }

  private void add(UUID topic, int node) {
    total.merge(node, 1, Integer::sum);
    perTopic.computeIfAbsent(topic, t -> new HashMap<>()).merge(node, 1, Integer::sum);
  }
}
