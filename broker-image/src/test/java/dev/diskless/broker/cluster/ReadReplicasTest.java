package dev.diskless.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ReadReplicasTest {

  private static final UUID TOPIC = UUID.fromString("6b1f6a8e-3f0c-4d55-9a57-0c1f3c2d9e11");

  private static BrokerInfo broker(int id, String rack, boolean draining) {
    return new BrokerInfo(
        id, 1, "127.0.0.1", 9000 + id, Optional.ofNullable(rack), Instant.MAX, draining, true);
  }

  private static ClusterView.Snapshot snapshot(List<BrokerInfo> brokers) {
    return new ClusterView.Snapshot(
        brokers, Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Optional.empty());
  }

  private static TopicPartitionId tp(int p) {
    return new TopicPartitionId(TOPIC, p);
  }

  @Test
  void withoutRacksTheOwnerIsTheOnlyReplica() {
    ReadReplicas r =
        ReadReplicas.in(snapshot(List.of(broker(1, null, false), broker(2, null, false))));
    assertThat(r.of(tp(0), 1)).containsExactly(1);
  }

  @Test
  void oneReadReplicaInEveryOtherZoneAfterTheOwner() {
    List<BrokerInfo> brokers =
        List.of(
            broker(1, "zone-a", false),
            broker(2, "zone-a", false),
            broker(3, "zone-b", false),
            broker(4, "zone-b", false),
            broker(5, "zone-c", false),
            broker(6, null, false));
    ReadReplicas r = ReadReplicas.in(snapshot(brokers));
    for (int p = 0; p < 50; p++) {
      List<Integer> replicas = r.of(tp(p), 1);
      assertThat(replicas).hasSize(3);
      assertThat(replicas.get(0)).isEqualTo(1);
      assertThat(replicas.get(1)).isIn(3, 4);
      assertThat(replicas.get(2)).isEqualTo(5);
      // The same on another broker's view of the same brokers, in another order.
      assertThat(ReadReplicas.in(snapshot(reversed(brokers))).of(tp(p), 1)).isEqualTo(replicas);
    }
    // An owner without a rack gets a read replica in every zone.
    assertThat(r.of(tp(0), 6)).hasSize(4).startsWith(6);
  }

  @Test
  void choiceSpreadsOverAZoneAndMovesOnlyWithTheBrokerThatLeaves() {
    List<BrokerInfo> brokers = new ArrayList<>();
    brokers.add(broker(1, "zone-a", false));
    for (int id = 10; id < 14; id++) {
      brokers.add(broker(id, "zone-b", false));
    }
    ReadReplicas before = ReadReplicas.in(snapshot(brokers));
    Map<Integer, Integer> load = new HashMap<>();
    for (int p = 0; p < 800; p++) {
      load.merge(before.of(tp(p), 1).get(1), 1, Integer::sum);
    }
    assertThat(load).containsOnlyKeys(10, 11, 12, 13);
    assertThat(load.values()).allSatisfy(n -> assertThat(n).isBetween(120, 280));

    // Broker 12 starts draining: only its partitions get another read replica.
    List<BrokerInfo> draining = new ArrayList<>(brokers);
    draining.replaceAll(b -> b.nodeId() == 12 ? broker(12, "zone-b", true) : b);
    ReadReplicas after = ReadReplicas.in(snapshot(draining));
    for (int p = 0; p < 800; p++) {
      int was = before.of(tp(p), 1).get(1);
      int now = after.of(tp(p), 1).get(1);
      if (was == 12) {
        assertThat(now).isNotEqualTo(12);
      } else {
        assertThat(now).isEqualTo(was);
      }
    }
  }

  private static List<BrokerInfo> reversed(List<BrokerInfo> brokers) {
    List<BrokerInfo> out = new ArrayList<>(brokers);
    java.util.Collections.reverse(out);
    return out;
  }
}
