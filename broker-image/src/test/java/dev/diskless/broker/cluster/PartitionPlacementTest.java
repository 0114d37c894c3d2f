package dev.diskless.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.TopicInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PartitionPlacementTest {

  private static final UUID TOPIC = new UUID(0, 1);

  /**
   * A cluster in memory: brokers with racks, one topic's owners, operator placements. {@link
   * #settle} plays the controller's passes (orphans first, then balance moves) and carries out
   * every requested move before the next pass, as the owners' hand-overs would.
   */
  private static final class Cluster {
    final Map<Integer, BrokerInfo> brokers = new TreeMap<>();
    final Map<Integer, Integer> owners = new TreeMap<>();
    final Map<TopicPartitionId, Integer> preferred = new HashMap<>();
    final int partitions;
    int moves;

    Cluster(int partitions) {
      this.partitions = partitions;
    }

    Cluster broker(int node, String rack) {
      brokers.put(
          node,
          new BrokerInfo(
              node, 1, "127.0.0.1", 9092, Optional.ofNullable(rack), Instant.MAX, false, true));
      return this;
    }

    /** The broker registered again and has not started yet. */
    void restart(int node) {
      BrokerInfo b = brokers.get(node);
      brokers.put(
          node,
          new BrokerInfo(
              node,
              b.brokerEpoch() + 1,
              b.host(),
              b.port(),
              b.rack(),
              b.leaseExpiresAt(),
              false,
              false));
    }

    void drain(int node) {
      BrokerInfo b = brokers.get(node);
      brokers.put(
          node,
          new BrokerInfo(
              node,
              b.brokerEpoch(),
              b.host(),
              b.port(),
              b.rack(),
              b.leaseExpiresAt(),
              true,
              b.serving()));
    }

    /** All brokers of the rack stop renewing their leases: they leave the live list. */
    void loseZone(String rack) {
      brokers.values().removeIf(b -> b.rack().equals(Optional.of(rack)));
    }

    ClusterView.Snapshot snapshot() {
      Map<TopicPartitionId, PartitionMetadata> ps = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        Integer owner = owners.get(p);
        ps.put(
            tp(p),
            new PartitionMetadata(
                tp(p), owner == null ? OptionalInt.empty() : OptionalInt.of(owner), 0, 0, 0));
      }
      TopicInfo topic = new TopicInfo(TOPIC, "t", partitions, Map.of());
      return new ClusterView.Snapshot(
          List.copyOf(brokers.values()),
          Map.of("t", topic),
          Map.of(TOPIC, topic),
          ps,
          Map.of(),
          Map.copyOf(preferred),
          Optional.empty());
    }

    /** One controller pass with at most {@code maxMoves} moves; returns the moves requested. */
    List<PartitionPlacement.Move> pass(int maxMoves) {
      ClusterView.Snapshot s = snapshot();
      PartitionPlacement placement = PartitionPlacement.of(s);
      Map<Integer, Integer> assigned = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        if (s.liveOwner(tp(p)).isEmpty()) {
          assigned.put(p, placement.assign(tp(p)));
        }
      }
      List<PartitionPlacement.Move> requested = new ArrayList<>();
      while (requested.size() < maxMoves) {
        Optional<PartitionPlacement.Move> m = placement.nextMove(TOPIC);
        if (m.isEmpty()) {
          break;
        }
        requested.add(m.get());
      }
      owners.putAll(assigned);
      requested.forEach(m -> owners.put(m.partition().partition(), m.to()));
      moves += requested.size();
      return requested;
    }

    /** Passes until balance asks for nothing more. */
    Cluster settle() {
      for (int i = 0; i < 1000; i++) {
        if (pass(16).isEmpty() && owners.size() == partitions) {
          return this;
        }
      }
      throw new AssertionError("balance never settled: " + owners);
    }

    Map<String, Integer> perZone() {
      Map<String, Integer> out = new TreeMap<>();
      owners.values().forEach(n -> out.merge(zone(n), 1, Integer::sum));
      return out;
    }

    Map<Integer, Integer> perBroker() {
      Map<Integer, Integer> out = new TreeMap<>();
      owners.values().forEach(n -> out.merge(n, 1, Integer::sum));
      return out;
    }

    String zone(int node) {
      return brokers.get(node).rack().orElse("node-" + node);
    }
  }

  private static TopicPartitionId tp(int p) {
    return new TopicPartitionId(TOPIC, p);
  }

  @Test
  void oneBrokerPerZoneGetsAnEqualShare() {
    Cluster c = new Cluster(6).broker(1, "a").broker(2, "b").broker(3, "c").settle();
    assertThat(c.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 2, "b", 2, "c", 2));
    assertThat(c.moves).isZero();
  }

  @Test
  void zonesFirstThenBrokersInsideThem() {
    // Six brokers, two per zone, registered zone by zone: a per-broker rule alone could put a
    // three-partition topic on a1, a2 and b1 and leave zone c without any.
    Cluster c =
        new Cluster(3)
            .broker(1, "a")
            .broker(2, "a")
            .broker(3, "b")
            .broker(4, "b")
            .broker(5, "c")
            .broker(6, "c");
    c.owners.putAll(Map.of(0, 1, 1, 2, 2, 3));
    c.settle();
    assertThat(c.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 1, "b", 1, "c", 1));
    assertThat(c.moves).isEqualTo(1);

    Cluster twelve =
        new Cluster(12)
            .broker(1, "a")
            .broker(2, "a")
            .broker(3, "b")
            .broker(4, "b")
            .broker(5, "c")
            .broker(6, "c")
            .settle();
    assertThat(twelve.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 4, "b", 4, "c", 4));
    assertThat(twelve.perBroker().values()).containsOnly(2);
  }

  @Test
  void zonesShareInProportionToTheirBrokers() {
    Cluster c = new Cluster(8).broker(1, "a").broker(2, "a").broker(3, "b").broker(4, "c").settle();
    assertThat(c.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 4, "b", 2, "c", 2));
    assertThat(c.perBroker().values()).containsOnly(2);

    // Two partitions: the zone with half the brokers gets one of them.
    Cluster two =
        new Cluster(2).broker(1, "a").broker(2, "a").broker(3, "b").broker(4, "c").settle();
    assertThat(two.perZone()).containsEntry("a", 1);

    // All of a topic on the small zones moves until the big zone has its half.
    Cluster skewed = new Cluster(4).broker(1, "a").broker(2, "a").broker(3, "b").broker(4, "c");
    skewed.owners.putAll(Map.of(0, 3, 1, 3, 2, 4, 3, 4));
    skewed.settle();
    assertThat(skewed.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 2, "b", 1, "c", 1));
    assertThat(skewed.perBroker().values()).containsOnly(1);
    assertThat(skewed.moves).isEqualTo(2);
  }

  @Test
  void aLostZonesPartitionsSpreadOverTheOthersAndComeBackGradually() {
    Cluster c =
        new Cluster(12)
            .broker(1, "a")
            .broker(2, "a")
            .broker(3, "b")
            .broker(4, "b")
            .broker(5, "c")
            .broker(6, "c")
            .settle();
    c.loseZone("c");

    List<PartitionPlacement.Move> first = c.pass(16);
    // Failover alone places the orphans evenly; nothing else has to move.
    assertThat(first).isEmpty();
    assertThat(c.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 6, "b", 6));
    assertThat(c.perBroker().values()).containsOnly(3);
    assertThat(c.settle().moves).isZero();

    c.broker(7, "c").broker(8, "c");
    List<PartitionPlacement.Move> back = c.pass(3);
    assertThat(back).hasSize(3).allSatisfy(m -> assertThat(c.zone(m.to())).isEqualTo("c"));
    c.settle();
    assertThat(c.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 4, "b", 4, "c", 4));
    assertThat(c.perBroker().values()).containsOnly(2);
    // Exactly the four partitions zone c is owed moved, none back and forth.
    assertThat(c.moves).isEqualTo(4);
  }

  @Test
  void aReturningZoneIsRefilledFromTheZonesFurthestOverTheirShare() {
    Cluster c =
        new Cluster(12)
            .broker(1, "a")
            .broker(2, "a")
            .broker(3, "b")
            .broker(4, "b")
            .broker(5, "c")
            .broker(6, "c");
    // Zone a owns the first partitions: were any zone over zone c's claim allowed to give, a would
    // give three (down to below its share) and b would have to refill it.
    for (int p = 0; p < 12; p++) {
      c.owners.put(p, p < 6 ? 1 + p % 2 : 3 + p % 2);
    }
    List<PartitionPlacement.Move> moves = c.pass(16);
    assertThat(moves).hasSize(4).allSatisfy(m -> assertThat(c.zone(m.to())).isEqualTo("c"));
    assertThat(moves.stream().map(m -> c.zone(m.from())))
        .containsExactlyInAnyOrder("a", "a", "b", "b");
    assertThat(c.settle().moves).isEqualTo(4);
    assertThat(c.perBroker().values()).containsOnly(2);
  }

  @Test
  void withoutRacksEveryBrokerIsItsOwnZoneAndTheRuleIsPerBroker() {
    Cluster c = new Cluster(7).broker(1, null).broker(2, null).broker(3, null);
    c.owners.putAll(Map.of(0, 1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 2, 6, 2));
    // Node 1 has five, node 3 none: node 1 gives to node 3, the least loaded (fewest of this
    // topic), starting with its first partition.
    List<PartitionPlacement.Move> moves = c.pass(1);
    assertThat(moves).containsExactly(new PartitionPlacement.Move(tp(0), 1, 3));
    c.settle();
    assertThat(c.perBroker()).containsExactlyInAnyOrderEntriesOf(Map.of(1, 3, 2, 2, 3, 2));

    // A broker gives only when it has two more than the least loaded: 2/1/1 stays as it is.
    Cluster almost = new Cluster(4).broker(1, null).broker(2, null).broker(3, null);
    almost.owners.putAll(Map.of(0, 1, 1, 1, 2, 2, 3, 3));
    assertThat(almost.pass(16)).isEmpty();

    // Ties go to the lower node id.
    Cluster fresh = new Cluster(1).broker(2, null).broker(1, null).settle();
    assertThat(fresh.owners).containsEntry(0, 1);
  }

  @Test
  void aNewBrokerTakesItsShareFromTheBusiestWithTheFewestMoves() {
    // Node 2 owns the first 25 partitions, node 1 the rest; node 3 joins. Each of the two gives
    // eight, and nothing moves between the two: 16 moves, not 20.
    Cluster c = new Cluster(50).broker(1, null).broker(2, null).broker(3, null);
    for (int p = 0; p < 50; p++) {
      c.owners.put(p, p < 25 ? 2 : 1);
    }
    List<PartitionPlacement.Move> moves = c.pass(64);
    assertThat(moves).hasSize(16).allSatisfy(m -> assertThat(m.to()).isEqualTo(3));
    assertThat(c.settle().moves).isEqualTo(16);
    assertThat(c.perBroker().values()).containsExactlyInAnyOrder(17, 17, 16);
  }

  @Test
  void aBrokerStillStartingKeepsWhatItOwnsAndGetsNothingNew() {
    Cluster c = new Cluster(9).broker(1, null).broker(2, null).broker(3, null).settle();
    c.restart(3);
    c.broker(4, null);
    c.restart(4);
    // Neither gives nor takes: the balanced spread stays, new partitions avoid them.
    assertThat(c.pass(64)).isEmpty();
    assertThat(c.perBroker()).containsExactlyInAnyOrderEntriesOf(Map.of(1, 3, 2, 3, 3, 3));
    c.owners.remove(0);
    c.pass(64);
    assertThat(c.owners.get(0)).isIn(1, 2);
  }

  @Test
  void aBrokerWithoutARackIsAZoneOfItsOwnNextToRackedOnes() {
    Cluster c = new Cluster(6).broker(1, "a").broker(2, "a").broker(3, null).settle();
    assertThat(c.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 4, "node-3", 2));
    assertThat(c.perBroker().values()).containsOnly(2);
  }

  @Test
  void drainingBrokersAreEmptiedAndTheirZoneCountsOnlyUsableBrokers() {
    Cluster c = new Cluster(8).broker(1, "a").broker(2, "a").broker(3, "b").broker(4, "c").settle();
    c.drain(1);
    c.settle();
    assertThat(c.perBroker()).doesNotContainKey(1);
    // Zone a has one usable broker left: zones are now 1:1:1.
    assertThat(c.perZone().values()).containsExactlyInAnyOrder(3, 3, 2);
    assertThat(c.moves).isEqualTo(2);

    // Orphans never go to a draining broker, even an idle one.
    Cluster idle = new Cluster(2).broker(1, "a").broker(2, "b");
    idle.owners.putAll(Map.of(0, 2, 1, 2));
    idle.drain(1);
    idle.owners.remove(1);
    idle.settle();
    assertThat(idle.perBroker()).containsExactlyEntriesOf(Map.of(2, 2));
  }

  @Test
  void operatorPlacementsWinOverZoneSpread() {
    Cluster c = new Cluster(3).broker(1, "a").broker(2, "a").broker(3, "b").broker(4, "c");
    c.preferred.putAll(Map.of(tp(0), 1, tp(1), 1, tp(2), 2));
    c.settle();
    // An orphan goes to its preferred owner, and balance leaves it there although zones b and c
    // have none.
    assertThat(c.owners).containsExactlyInAnyOrderEntriesOf(Map.of(0, 1, 1, 1, 2, 2));
    assertThat(c.moves).isZero();

    // A preferred owner that cannot take partitions is not honoured.
    c.loseZone("a");
    c.settle();
    assertThat(c.perZone()).containsExactlyInAnyOrderEntriesOf(Map.of("b", 2, "c", 1));
  }

  @Test
  void balanceAlwaysSettlesOnAnEvenSpread() {
    Random random = new Random(42);
    for (int round = 0; round < 300; round++) {
      int partitions = 1 + random.nextInt(30);
      Cluster c = new Cluster(partitions);
      int node = 1;
      int zones = 1 + random.nextInt(4);
      for (int z = 0; z < zones; z++) {
        int size = 1 + random.nextInt(3);
        for (int i = 0; i < size; i++) {
          c.broker(node++, random.nextInt(5) == 0 ? null : "z" + z);
        }
      }
      List<Integer> nodes = List.copyOf(c.brokers.keySet());
      for (int p = 0; p < partitions; p++) {
        c.owners.put(p, nodes.get(random.nextInt(nodes.size())));
      }
      c.settle();
      String shape = c.brokers.values() + " → " + c.owners;
      Map<String, Integer> counts = c.perZone();
      Map<String, Integer> sizes = new HashMap<>();
      c.brokers.keySet().forEach(n -> sizes.merge(c.zone(n), 1, Integer::sum));
      // Sainte-Laguë: no zone's last partition has a weaker claim than another zone's next one.
      double highestLast = 0;
      double lowestNext = Double.MAX_VALUE;
      for (var e : sizes.entrySet()) {
        int count = counts.getOrDefault(e.getKey(), 0);
        highestLast = Math.max(highestLast, (count - 0.5) / e.getValue());
        lowestNext = Math.min(lowestNext, (count + 0.5) / e.getValue());
      }
      assertThat(highestLast).as(shape).isLessThanOrEqualTo(lowestNext);
      // Inside a zone, no broker has two more than another.
      for (String zone : sizes.keySet()) {
        List<Integer> inZone =
            c.brokers.keySet().stream()
                .filter(n -> c.zone(n).equals(zone))
                .map(n -> c.perBroker().getOrDefault(n, 0))
                .toList();
        int max = inZone.stream().max(Integer::compare).orElseThrow();
        int min = inZone.stream().min(Integer::compare).orElseThrow();
        assertThat(max - min).as(shape).isLessThanOrEqualTo(1);
      }
    }
  }
}
