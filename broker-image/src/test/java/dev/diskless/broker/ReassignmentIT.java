package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.RawKafkaClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Ownership moves without data copies: AlterPartitionReassignments moves a partition to another
 * broker as a hand-over, the controller spreads every topic over a broker that joins, and a broker
 * that shuts down cleanly hands its partitions to the others while a producer keeps writing with
 * acks=all — every acknowledged record is then read back at its offset.
 */
class ReassignmentIT {

  private final List<Broker> brokers = new ArrayList<>();

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  private Broker start(StorageConfig storage) throws Exception {
    Broker b = Broker.start(BrokerConfig.local("reassign-" + brokers.size(), storage));
    brokers.add(b);
    return b;
  }

  private String bootstrap() {
    return brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
  }

  private Map<Integer, Integer> owners(String topic) {
    Map<Integer, Integer> owner = new HashMap<>();
    for (Broker b : brokers) {
      for (TopicPartitionId tp : b.ownedPartitions(topic)) {
        owner.put(tp.partition(), b.nodeId());
      }
    }
    return owner;
  }

  @Test
  void movesAreHandOversAndOwnershipFollowsBrokersJoiningAndLeaving() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    Broker first = start(storage);
    Broker second = start(storage);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
      admin.createTopics(List.of(new NewTopic("moves", 6, (short) 1))).all().get();
      await().atMost(Duration.ofSeconds(30)).until(() -> owners("moves").size() == 6);
      Map<TopicPartition, RecordMetadata> before = produce(bootstrap(), "moves", 0, 120);

      // An explicit move of partition 0 to whichever broker does not own it.
      int from = owners("moves").get(0);
      int to = from == first.nodeId() ? second.nodeId() : first.nodeId();
      Broker fromBroker = from == first.nodeId() ? first : second;
      Broker toBroker = from == first.nodeId() ? second : first;
      TopicPartitionId p0 = fromBroker.ownedPartitions("moves").get(0);
      int epochBefore = fromBroker.engine().logs().local(p0).orElseThrow().leaderEpoch();
      long endBefore = fromBroker.engine().logs().local(p0).orElseThrow().highWatermark();
      admin
          .alterPartitionReassignments(
              Map.of(
                  new TopicPartition("moves", 0),
                  Optional.of(new NewPartitionReassignment(List.of(to)))))
          .all()
          .get();
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(owners("moves")).containsEntry(0, to);
                assertThat(admin.listPartitionReassignments().reassignments().get()).isEmpty();
              });
      assertThat(before).isNotEmpty();
      assertEpochHistory(toBroker, epochBefore, endBefore);

      // Refused: two replicas, or a broker that does not exist.
      for (List<Integer> bad : List.of(List.of(first.nodeId(), second.nodeId()), List.of(99))) {
        var result =
            admin.alterPartitionReassignments(
                Map.of(
                    new TopicPartition("moves", 1),
                    Optional.of(new NewPartitionReassignment(bad))));
        assertThat(result.all())
            .failsWithin(Duration.ofSeconds(10))
            .withThrowableThat()
            .havingRootCause()
            .isInstanceOf(InvalidReplicaAssignmentException.class);
      }
      // Every partition has its one replica leading already.
      var election =
          admin.electLeaders(ElectionType.PREFERRED, Set.of(new TopicPartition("moves", 2)));
      assertThat(election.partitions().get().get(new TopicPartition("moves", 2)))
          .containsInstanceOf(ElectionNotNeededException.class);
    }

    // A third broker joins: the controller spreads the topic two partitions per broker.
    Broker third = start(storage);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              Map<Integer, Long> perBroker =
                  owners("moves").values().stream()
                      .collect(Collectors.groupingBy(n -> n, Collectors.counting()));
              assertThat(perBroker)
                  .containsOnlyKeys(first.nodeId(), second.nodeId(), third.nodeId());
              assertThat(perBroker.values()).containsOnly(2L);
            });

    // One leaves cleanly while a producer writes: its partitions are handed over, not failed over.
    List<Exception> errors = new CopyOnWriteArrayList<>();
    List<RecordMetadata> acked = new CopyOnWriteArrayList<>();
    AtomicBoolean producing = new AtomicBoolean(true);
    String survivors = "127.0.0.1:" + first.port() + ",127.0.0.1:" + third.port();
    Thread producer =
        Thread.ofPlatform()
            .start(
                () -> {
                  try (KafkaProducer<String, String> p =
                      new KafkaProducer<>(producerProps(survivors))) {
                    int i = 1000;
                    while (producing.get()) {
                      p.send(
                          new ProducerRecord<>("moves", "k" + i, "v" + i),
                          (m, e) -> {
                            if (e != null) {
                              errors.add(e);
                            } else {
                              acked.add(m);
                            }
                          });
                      i++;
                      Thread.sleep(2);
                    }
                    p.flush();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    // The producer is writing before the broker leaves...
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= 50);
    brokers.remove(second);
    long closing = System.nanoTime();
    second.close();
    long drainMs = (System.nanoTime() - closing) / 1_000_000;
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(owners("moves")).hasSize(6).doesNotContainValue(second.nodeId()));
    // ...and goes on being acknowledged once the partitions have moved.
    int afterMove = acked.size();
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= afterMove + 50);
    producing.set(false);
    producer.join();
    assertThat(errors).isEmpty();
    assertThat(acked).hasSizeGreaterThan(100);
    assertThat(drainMs).as("drain took %d ms", drainMs).isLessThan(30_000);

    Map<String, Long> offsets = new HashMap<>();
    for (RecordMetadata m : acked) {
      offsets.put(m.partition() + "@" + m.offset(), m.offset());
    }
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, survivors);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    Set<String> read = new java.util.HashSet<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> all = new ArrayList<>();
      for (int p = 0; p < 6; p++) {
        all.add(new TopicPartition("moves", p));
      }
      consumer.assign(all);
      consumer.seekToBeginning(all);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!read.containsAll(offsets.keySet()) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          assertThat(read.add(r.partition() + "@" + r.offset())).isTrue();
        }
      }
    }
    assertThat(read).containsAll(offsets.keySet());
  }

  /**
   * OffsetForLeaderEpoch on the new owner: the old epoch ends where the move happened, the current
   * one at the high watermark, and a request naming the old epoch as current is fenced.
   */
  private static void assertEpochHistory(Broker owner, int oldEpoch, long movedAt)
      throws Exception {
    int current =
        owner
            .engine()
            .logs()
            .local(
                owner.ownedPartitions("moves").stream()
                    .filter(tp -> tp.partition() == 0)
                    .findFirst()
                    .orElseThrow())
            .orElseThrow()
            .leaderEpoch();
    assertThat(current).isGreaterThan(oldEpoch);
    assertThat(endOffset(owner, oldEpoch, -1))
        .isEqualTo(List.of((long) Errors.NONE.code(), (long) oldEpoch, movedAt));
    assertThat(endOffset(owner, current, current))
        .isEqualTo(List.of((long) Errors.NONE.code(), (long) current, movedAt));
    assertThat(endOffset(owner, oldEpoch, oldEpoch).get(0))
        .isEqualTo((long) Errors.FENCED_LEADER_EPOCH.code());
  }

  /** [error, leader epoch, end offset] for partition 0 of "moves". */
  private static List<Long> endOffset(Broker owner, int epoch, int currentEpoch) throws Exception {
    OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
    OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t =
        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("moves");
    t.partitions()
        .add(
            new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition()
                .setPartition(0)
                .setLeaderEpoch(epoch)
                .setCurrentLeaderEpoch(currentEpoch));
    topics.add(t);
    var request = OffsetsForLeaderEpochRequest.Builder.forConsumer(topics).build((short) 4);
    var response = (OffsetsForLeaderEpochResponse) RawKafkaClient.send(owner.port(), request);
    var r = response.data().topics().iterator().next().partitions().get(0);
    return List.of((long) r.errorCode(), (long) r.leaderEpoch(), r.endOffset());
  }

  private static Properties producerProps(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return p;
  }

  private static Map<TopicPartition, RecordMetadata> produce(
      String bootstrap, String topic, int from, int count)
      throws InterruptedException, ExecutionException {
    Map<TopicPartition, RecordMetadata> last = new HashMap<>();
    try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps(bootstrap))) {
      List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
      for (int i = from; i < from + count; i++) {
        fs.add(p.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
      }
      for (var f : fs) {
        RecordMetadata m = f.get();
        last.put(new TopicPartition(m.topic(), m.partition()), m);
      }
    }
    return last;
  }
}
