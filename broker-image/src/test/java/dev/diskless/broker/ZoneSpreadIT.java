package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.AckedWorkload;
import dev.diskless.storage.StorageConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Six brokers in three zones (racks zone-a, zone-b, zone-c, two each): every topic's ownership is
 * spread over the zones as clients see it (leaders in DescribeTopics, racks in DescribeCluster).
 * Then both brokers of zone-c are killed while an idempotent acks=all producer writes: their
 * partitions go to the two remaining zones evenly within the lease plus a few seconds, and when
 * zone-c's brokers come back balancing moves its share back. Every acknowledged record is read back
 * at its offset afterwards.
 */
class ZoneSpreadIT {

  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final String TOPIC = "zones";
  private static final int PARTITIONS = 12;

  private final List<Broker> brokers = new ArrayList<>();

  @AfterEach
  void stop() {
    brokers.reversed().forEach(Broker::close);
  }

  @Test
  void ownershipIsSpreadOverZonesAndSurvivesTheLossOfOne() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    // Registered zone by zone, so that a per-broker spread of a three-partition topic would leave
    // a zone out.
    for (String zone : List.of("zone-a", "zone-a", "zone-b", "zone-b", "zone-c", "zone-c")) {
      start(storage, zone);
    }
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, all()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(TOPIC, PARTITIONS, (short) 1), new NewTopic("three", 3, (short) 1)))
          .all()
          .get();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  perZone(admin, TOPIC).equals(Map.of("zone-a", 4, "zone-b", 4, "zone-c", 4))
                      && perBroker(admin, TOPIC).values().stream().allMatch(n -> n == 2)
                      && perZone(admin, "three")
                          .equals(Map.of("zone-a", 1, "zone-b", 1, "zone-c", 1)));
      System.out.printf(
          "zones: before the loss %s per zone, %s per broker%n",
          perZone(admin, TOPIC), perBroker(admin, TOPIC));

      List<Broker> zoneC = brokers.subList(4, 6);
      List<Integer> lost = zoneC.stream().map(Broker::nodeId).toList();
      Map<Integer, Integer> leaders = leaders(admin, TOPIC);
      List<Integer> orphaned =
          leaders.entrySet().stream()
              .filter(e -> lost.contains(e.getValue()))
              .map(Map.Entry::getKey)
              .toList();
      String survivors = bootstrap(brokers.subList(0, 4));
      try (AckedWorkload workload = new AckedWorkload(all(), TOPIC, PARTITIONS)) {
        await().atMost(Duration.ofSeconds(30)).until(() -> workload.acknowledged() > 200);
        long killed = System.nanoTime();
        zoneC.forEach(Broker::halt);

        // Without an owner: from the kill until DescribeTopics names a broker of another zone.
        Map<Integer, Long> ownerless = new TreeMap<>();
        long deadline = killed + LEASE.plusSeconds(30).toNanos();
        while (ownerless.size() < orphaned.size() && System.nanoTime() < deadline) {
          Map<Integer, Integer> now = leadersOrEmpty(admin);
          for (int p : orphaned) {
            Integer leader = now.get(p);
            if (leader != null && !lost.contains(leader) && !ownerless.containsKey(p)) {
              ownerless.put(p, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
            }
          }
          Thread.sleep(50);
        }
        assertThat(ownerless.keySet())
            .as("zone-c's partitions owned elsewhere")
            .containsExactlyInAnyOrderElementsOf(orphaned);
        long longestOwnerless =
            ownerless.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        Map<String, Integer> afterLoss = perZone(admin, TOPIC);
        Map<Integer, Integer> afterLossBrokers = perBroker(admin, TOPIC);
        long served =
            await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> workload.everyPartitionAckedSince(killed), a -> a.isPresent())
                .getAsLong();
        List<Long> firstAcks = workload.firstAckMillisSince(killed);
        System.out.printf(
            "zones: lost zone-c (nodes %s, lease %d s): partitions %s went without an owner for %s"
                + " ms (max %d ms); first acks after the kill per partition %s ms; every partition"
                + " acknowledged after %d ms; now %s per zone, %s per broker%n",
            lost,
            LEASE.toSeconds(),
            orphaned,
            ownerless.values(),
            longestOwnerless,
            firstAcks,
            TimeUnit.NANOSECONDS.toMillis(served - killed),
            afterLoss,
            afterLossBrokers);
        assertThat(longestOwnerless)
            .as("ms without an owner, at most the lease plus 5 s")
            .isLessThanOrEqualTo(LEASE.plusSeconds(5).toMillis());
        assertThat(afterLoss).isEqualTo(Map.of("zone-a", 6, "zone-b", 6));
        assertThat(afterLossBrokers.values()).containsOnly(3);

        // Zone c comes back (new processes, as after a zone outage): balancing returns its share.
        start(storage, "zone-c");
        start(storage, "zone-c");
        long back = System.nanoTime();
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    perZone(admin, TOPIC).equals(Map.of("zone-a", 4, "zone-b", 4, "zone-c", 4))
                        && perBroker(admin, TOPIC).values().stream().allMatch(n -> n == 2));
        System.out.printf(
            "zones: zone-c back, spread %s per zone again after %d ms%n",
            perZone(admin, TOPIC), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - back));
        workload.stop();
        assertThat(workload.failures()).isEmpty();
        workload.verify(survivors);
      }
    }
  }

  private Broker start(StorageConfig storage, String zone) throws Exception {
    Broker b =
        Broker.start(
            new BrokerConfig(
                zone + "-" + brokers.size(),
                "127.0.0.1",
                0,
                "127.0.0.1",
                Optional.of(zone),
                "zones",
                LEASE,
                100 << 20,
                storage,
                -1,
                Map.of(),
                Duration.ofSeconds(30)));
    brokers.add(b);
    return b;
  }

  private String all() {
    return bootstrap(brokers);
  }

  private static String bootstrap(List<Broker> bs) {
    return bs.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
  }

  /** Partition → leader node id, for partitions that have a leader. */
  private static Map<Integer, Integer> leaders(Admin admin, String topic) throws Exception {
    TopicDescription d =
        admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
    Map<Integer, Integer> out = new HashMap<>();
    for (TopicPartitionInfo p : d.partitions()) {
      if (p.leader() != null && !p.leader().isEmpty()) {
        out.put(p.partition(), p.leader().id());
      }
    }
    return out;
  }

  /** As {@link #leaders}, empty while the cluster does not answer (brokers are being killed). */
  private static Map<Integer, Integer> leadersOrEmpty(Admin admin) {
    try {
      return leaders(admin, TOPIC);
    } catch (Exception e) {
      return Map.of();
    }
  }

  private static Map<Integer, Integer> perBroker(Admin admin, String topic) throws Exception {
    Map<Integer, Integer> out = new TreeMap<>();
    leaders(admin, topic).values().forEach(n -> out.merge(n, 1, Integer::sum));
    return out;
  }

  /** Leaders per rack, racks as DescribeCluster reports them. */
  private static Map<String, Integer> perZone(Admin admin, String topic) throws Exception {
    Map<Integer, String> racks = new HashMap<>();
    for (Node n : admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)) {
      racks.put(n.id(), n.rack() == null ? "none" : n.rack());
    }
    Map<String, Integer> out = new TreeMap<>();
    leaders(admin, topic)
        .values()
        .forEach(n -> out.merge(racks.getOrDefault(n, "gone"), 1, Integer::sum));
    return out;
  }
}
