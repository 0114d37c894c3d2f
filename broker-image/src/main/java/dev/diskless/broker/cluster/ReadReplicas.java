package dev.diskless.broker.cluster;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The replicas a partition reports to clients (KIP-392): its owner first, then one read replica in
 * every other zone (rack) that has a live, non-draining broker. Any broker can read any partition's
 * committed data from the batch index and object storage, so a "replica" here holds no copy: it is
 * the broker of that zone that serves the partition's zone-local consumer fetches. The one broker
 * per zone is chosen by rendezvous hashing of the topic id and partition over that zone's brokers,
 * so the choice is the same on every broker that sees the same brokers, and moves only the
 * partitions of a broker that comes or goes: one broker per zone reads a partition and its caches
 * stay warm. Brokers without a rack are never read replicas; when no broker has a rack, a
 * partition's replicas are its owner alone.
 */
public final class ReadReplicas {

  private final Map<Integer, Optional<String>> zoneOf = new HashMap<>();
  private final Map<String, List<Integer>> candidatesByZone = new TreeMap<>();

  private ReadReplicas(ClusterView.Snapshot snapshot) {
    for (BrokerInfo b : snapshot.brokers()) {
      zoneOf.put(b.nodeId(), b.rack());
      if (b.acceptsPartitions() && b.rack().isPresent()) {
        candidatesByZone.computeIfAbsent(b.rack().get(), z -> new ArrayList<>()).add(b.nodeId());
      }
    }
    candidatesByZone.values().forEach(ids -> ids.sort(Integer::compare));
  }

  /** The read replicas of {@code snapshot}'s brokers; build one per request, it is cheap. */
  public static ReadReplicas in(ClusterView.Snapshot snapshot) {
    return new ReadReplicas(snapshot);
  }

  /**
   * {@code owner} followed by the read replica of every other zone, in zone-name order. The owner's
   * own zone gets none: the owner serves it.
   */
  public List<Integer> of(TopicPartitionId tp, int owner) {
    Optional<String> ownerZone = zoneOf.getOrDefault(owner, Optional.empty());
    List<Integer> out = new ArrayList<>(1 + candidatesByZone.size());
    out.add(owner);
    candidatesByZone.forEach(
        (zone, ids) -> {
          if (ownerZone.isEmpty() || !ownerZone.get().equals(zone)) {
            out.add(pick(tp, ids));
          }
        });
    return out;
  }

  /** The zone of {@code node}, if it is live and has one. */
  public Optional<String> zone(int node) {
    return zoneOf.getOrDefault(node, Optional.empty());
  }

  /** Rendezvous (highest random weight): the candidate with the highest score; ties to lower id. */
  private static int pick(TopicPartitionId tp, List<Integer> sortedIds) {
    int best = sortedIds.get(0);
    long bestScore = score(tp, best);
    for (int i = 1; i < sortedIds.size(); i++) {
      long s = score(tp, sortedIds.get(i));
      if (Long.compareUnsigned(s, bestScore) > 0) {
        best = sortedIds.get(i);
        bestScore = s;
      }
    }
    return best;
  }

  /**
   * A 64-bit hash of (topic id, partition, node id) with the SplitMix64 finalizer: fixed
   * arithmetic, so every broker (and every JVM version) computes the same choice.
   */
  static long score(TopicPartitionId tp, int nodeId) {
    long h = mix(tp.topicId().getMostSignificantBits());
    h = mix(h ^ tp.topicId().getLeastSignificantBits());
    h = mix(h ^ (((long) tp.partition() << 32) | (nodeId & 0xffffffffL)));
    return h;
  }

  private static long mix(long z) {
    z += 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
