package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The offsets topic is compacted as Kafka's is, so a coordinator's load time after a failover is
 * bounded by live groups and offsets, not by every commit ever made: many commits, a failover (load
 * of the whole history), a compaction run, another failover (load of the compacted log), with the
 * committed offsets exact each time.
 */
class OffsetsCompactionIT {

  // One record per group and partition committed: 100,000 records by default (half a minute);
  // -Doffsets.rounds=100 gives the 1,000,000 commits over 100 groups of docs/broker.md (5 minutes).
  private static final int GROUPS = 100;
  private static final int PARTITIONS = 100;
  private static final int ROUNDS = Integer.getInteger("offsets.rounds", 10);
  private static final TopicPartition OFFSETS = new TopicPartition("__consumer_offsets", 0);

  @Test
  void aCoordinatorLoadsTheCompactedOffsetsTopicWithTheSameOffsets() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    Map<String, String> group =
        Map.of("offsets.topic.num.partitions", "1", "group.initial.rebalance.delay.ms", "0");
    List<TopicPartition> parts = new ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) {
      parts.add(new TopicPartition("t", p));
    }
    try (Broker a =
            Broker.start(BrokerConfig.local("offsets-a", storage).withGroupCoordinator(group));
        Admin admin = admin(a)) {
      admin.createTopics(List.of(new NewTopic("t", PARTITIONS, (short) 1))).all().get();
      ConfigResource offsets = new ConfigResource(ConfigResource.Type.TOPIC, OFFSETS.topic());
      var config = admin.describeConfigs(List.of(offsets)).all().get().get(offsets);
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
      for (int round = 0; round < ROUNDS; round++) {
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        for (TopicPartition tp : parts) {
          commit.put(tp, new OffsetAndMetadata(round));
        }
        List<KafkaFuture<Void>> all = new ArrayList<>();
        for (int g = 0; g < GROUPS; g++) {
          all.add(admin.alterConsumerGroupOffsets("g" + g, commit).all());
        }
        KafkaFuture.allOf(all.toArray(KafkaFuture[]::new)).get();
      }
      // Kafka rolls the offsets topic's segments at 100 MiB, so none of the history above is
      // compacted yet; from here on every commit older than a second is outside the active part.
      admin
          .incrementalAlterConfigs(
              Map.of(
                  offsets,
                  List.of(
                      new AlterConfigOp(
                          new ConfigEntry("segment.ms", "1000"), AlterConfigOp.OpType.SET),
                      new AlterConfigOp(
                          new ConfigEntry("min.cleanable.dirty.ratio", "0.01"),
                          AlterConfigOp.OpType.SET))))
          .all()
          .get();
    }

    long historyRecords;
    long beforeMs;
    try (Broker b =
            Broker.start(BrokerConfig.local("offsets-b", storage).withGroupCoordinator(group));
        Admin admin = admin(b)) {
      beforeMs = awaitOffsets(admin, parts);
      historyRecords = records(b);
      assertThat(historyRecords).isGreaterThanOrEqualTo((long) GROUPS * PARTITIONS * ROUNDS);
      Thread.sleep(1_200);
      b.engine().maintenance().runOnce().join();
    }

    try (Broker c =
            Broker.start(BrokerConfig.local("offsets-c", storage).withGroupCoordinator(group));
        Admin admin = admin(c)) {
      long afterMs = awaitOffsets(admin, parts);
      long compactedRecords = records(c);
      // One offset record per group and partition survives, and one metadata record per group
      // (twice that leaves room for records still in the active part).
      assertThat(compactedRecords)
          .isLessThanOrEqualTo(2L * GROUPS * (PARTITIONS + 1))
          .isLessThan(historyRecords / 4);
      System.out.printf(
          "offsets topic: %d records loaded in %d ms before compaction, %d records in %d ms after"
              + " (%d groups x %d partitions x %d commits)%n",
          historyRecords, beforeMs, compactedRecords, afterMs, GROUPS, PARTITIONS, ROUNDS);
    }
  }

  private static Admin admin(Broker broker) {
    return Admin.create(
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + broker.port()));
  }

  /** Waits until every group's committed offsets are the last round's; returns the ms it took. */
  private static long awaitOffsets(Admin admin, List<TopicPartition> parts) {
    long start = System.nanoTime();
    Awaitility.await()
        .atMost(60, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .ignoreExceptions()
        .until(
            () -> {
              for (int g = 0; g < GROUPS; g++) {
                Map<TopicPartition, OffsetAndMetadata> got =
                    admin.listConsumerGroupOffsets("g" + g).partitionsToOffsetAndMetadata().get();
                for (TopicPartition tp : parts) {
                  OffsetAndMetadata o = got.get(tp);
                  if (o == null || o.offset() != ROUNDS - 1) {
                    return false;
                  }
                }
              }
              return true;
            });
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /** How many records a reader of the offsets topic from its start gets. */
  private static long records(Broker broker) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + broker.port());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.assign(List.of(OFFSETS));
      long end = consumer.endOffsets(List.of(OFFSETS)).get(OFFSETS);
      consumer.seekToBeginning(List.of(OFFSETS));
      long count = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (consumer.position(OFFSETS) < end && System.nanoTime() < deadline) {
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return count;
    }
  }
}
