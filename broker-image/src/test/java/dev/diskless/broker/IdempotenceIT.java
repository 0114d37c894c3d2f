package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.RequestHoldingProxy;
import dev.diskless.broker.testing.ResponseDroppingProxy;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.testing.RawKafkaClient;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Future;
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
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The default (idempotent) producer through a proxy that loses every third Produce response after
 * the broker has appended the batch: the client reconnects and retries the same batch, the broker
 * recognises it by producer id and sequence and answers with the original offsets, so the log holds
 * every record exactly once, in send order. Also the sequence rules for a producer a partition
 * holds no state for: taken at any sequence on a partition that never moved, held to sequence 0 on
 * one just taken over, where an earlier batch may still be on its way from the previous owner.
 */
class IdempotenceIT {

  @Test
  void aLostProduceResponseAndTheRetryWriteNoDuplicate() throws Exception {
    BrokerConfig base = BrokerConfig.local("idempotence", TestStorage.fresh());
    // The broker advertises 127.0.0.2 with its own port, where the proxy listens.
    BrokerConfig config =
        new BrokerConfig(
            base.instanceId(),
            base.listenHost(),
            0,
            "127.0.0.2",
            Optional.empty(),
            base.clusterId(),
            base.lease(),
            base.maxFrameBytes(),
            base.storage(),
            -1,
            Map.of(),
            base.drainTimeout());
    try (Broker broker = Broker.start(config);
        ResponseDroppingProxy proxy =
            new ResponseDroppingProxy(
                "127.0.0.2",
                broker.port(),
                new InetSocketAddress("127.0.0.1", broker.port()),
                ApiKeys.PRODUCE,
                3)) {
      String bootstrap = "127.0.0.2:" + broker.port();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic("once", 1, (short) 1))).all().get();
      }
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      // Small batches so that there are many Produce requests to lose.
      p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
      p.put(ProducerConfig.BATCH_SIZE_CONFIG, "200");
      List<Future<RecordMetadata>> futures = new ArrayList<>();
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        for (int i = 0; i < 200; i++) {
          futures.add(producer.send(new ProducerRecord<>("once", "k", "v" + i)));
          if (i % 20 == 0) {
            producer.flush();
          }
        }
        producer.flush();
      }
      List<Long> offsets = new ArrayList<>();
      for (Future<RecordMetadata> f : futures) {
        offsets.add(f.get().offset());
      }
      assertThat(proxy.dropped()).as("responses lost").isGreaterThan(3);
      assertThat(offsets).as("acknowledged at distinct, increasing offsets").isSorted();
      assertThat(offsets).doesNotHaveDuplicates();

      List<String> values = new ArrayList<>();
      Properties c = new Properties();
      c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
        TopicPartition tp = new TopicPartition("once", 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (values.size() < 200 && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            values.add(r.value());
            assertThat(r.offset()).isEqualTo(offsets.get(values.size() - 1));
          }
        }
        assertThat(consumer.endOffsets(List.of(tp)).get(tp)).isEqualTo(200L);
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        expected.add("v" + i);
      }
      assertThat(values).isEqualTo(expected);
    }
  }

  @Test
  void aProducerUnknownToAPartitionIsAcceptedAtAnySequenceThenHeldToIt() throws Exception {
    try (Broker broker = Broker.start(BrokerConfig.local("unknown-pid", TestStorage.fresh()))) {
      String bootstrap = "127.0.0.1:" + broker.port();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic("fresh", 1, (short) 1))).all().get();
      }
      Awaitility.await().until(() -> broker.ownedPartitions("fresh").size() == 1);
      // As librdkafka after its topic was re-created: producer 9001 continues at sequence 166.
      assertThat(produceRaw(broker, 166, "s166")).isEqualTo(Errors.NONE);
      assertThat(produceRaw(broker, 167, "s167")).isEqualTo(Errors.NONE);
      assertThat(produceRaw(broker, 169, "gap")).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
      assertThat(
              broker
                  .engine()
                  .reader()
                  .bounds(broker.ownedPartitions("fresh").get(0))
                  .join()
                  .highWatermark())
          .isEqualTo(2);
    }
  }

  @Test
  void aLaterBatchDoesNotOvertakeOneThisBrokerRefused() throws Exception {
    // A producer's first batch is refused retriably (here: not the owner yet), its next one,
    // already in flight, arrives once the broker can take it. Taking it would leave the producer
    // retrying the first one against OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout.
    StorageConfig storage = TestStorage.fresh();
    try (Broker a = Broker.start(BrokerConfig.local("order-a", storage));
        Broker b = Broker.start(BrokerConfig.local("order-b", storage));
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + a.port()))) {
      admin.createTopics(List.of(new NewTopic("order", 1, (short) 1))).all().get();
      Awaitility.await()
          .until(() -> a.ownedPartitions("order").size() + b.ownedPartitions("order").size() == 1);
      Broker other = a.ownedPartitions("order").isEmpty() ? a : b;
      // Retriable either way: this broker's view may not know the new topic yet.
      assertThat(produceRaw(other, "order", 9002L, 0, "first"))
          .isIn(Errors.NOT_LEADER_OR_FOLLOWER, Errors.UNKNOWN_TOPIC_OR_PARTITION);
      admin
          .alterPartitionReassignments(
              Map.of(
                  new TopicPartition("order", 0),
                  Optional.of(new NewPartitionReassignment(List.of(other.nodeId())))))
          .all()
          .get();
      Awaitility.await().until(() -> other.ownedPartitions("order").size() == 1);

      assertThat(produceRaw(other, "order", 9002L, 1, "second"))
          .as("a later sequence while the refused one was not retried")
          .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
      assertThat(produceRaw(other, "order", 9002L, 0, "first")).isEqualTo(Errors.NONE);
      assertThat(produceRaw(other, "order", 9002L, 1, "second")).isEqualTo(Errors.NONE);
      assertThat(
              other
                  .engine()
                  .reader()
                  .bounds(other.ownedPartitions("order").get(0))
                  .join()
                  .highWatermark())
          .isEqualTo(2);
    }
  }

  @Test
  void aPartitionTakenOverHoldsAnUnknownProducerToSequenceZero() throws Exception {
    // ReassignmentIT's stall: batch 0 of producer 9003 was in flight to the old owner during the
    // hand-over and never committed, its batch 1 reached the new owner first. Taking batch 1
    // would leave batch 0, retried later, out of order for as long as the producer retries.
    StorageConfig storage = TestStorage.fresh();
    try (Broker a = Broker.start(BrokerConfig.local("takeover-a", storage));
        Broker b = Broker.start(BrokerConfig.local("takeover-b", storage));
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + a.port()))) {
      admin.createTopics(List.of(new NewTopic("taken", 1, (short) 1))).all().get();
      Awaitility.await()
          .until(() -> a.ownedPartitions("taken").size() + b.ownedPartitions("taken").size() == 1);
      Broker newOwner = a.ownedPartitions("taken").isEmpty() ? a : b;
      admin
          .alterPartitionReassignments(
              Map.of(
                  new TopicPartition("taken", 0),
                  Optional.of(new NewPartitionReassignment(List.of(newOwner.nodeId())))))
          .all()
          .get();
      Awaitility.await().until(() -> newOwner.ownedPartitions("taken").size() == 1);

      assertThat(produceRaw(newOwner, "taken", 9003L, (short) 0, 1, "second"))
          .as("a later sequence of a producer the partition has no state for, just after a move")
          .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
      assertThat(produceRaw(newOwner, "taken", 9003L, (short) 0, 0, "first"))
          .isEqualTo(Errors.NONE);
      assertThat(produceRaw(newOwner, "taken", 9003L, (short) 0, 1, "second"))
          .isEqualTo(Errors.NONE);

      // A producer whose earlier sequences were acknowledged elsewhere (a re-created topic) is
      // answered the same; the Java producer then bumps its epoch and starts again at 0.
      assertThat(produceRaw(newOwner, "taken", 9004L, (short) 0, 166, "continued"))
          .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
      assertThat(produceRaw(newOwner, "taken", 9004L, (short) 1, 0, "bumped"))
          .isEqualTo(Errors.NONE);
      assertThat(
              newOwner
                  .engine()
                  .reader()
                  .bounds(newOwner.ownedPartitions("taken").get(0))
                  .join()
                  .highWatermark())
          .isEqualTo(3);
    }
  }

  @Test
  void aStockProducerKeepsOrderWhenItsBatchToTheOldOwnerIsRetriedAfterLaterOnes() throws Exception {
    // The same race with the Java producer: its first batch is held in flight to the owner (a),
    // the partition moves to b, the producer learns it and sends its next batch to b, then the
    // first batch reaches a, is refused (NOT_LEADER_OR_FOLLOWER) and retried to b.
    StorageConfig storage = TestStorage.fresh();
    BrokerConfig base = BrokerConfig.local("held-a", storage);
    // a advertises 127.0.0.2 with its own port, where the proxy listens; b is reached directly.
    BrokerConfig heldConfig =
        new BrokerConfig(
            base.instanceId(),
            base.listenHost(),
            0,
            "127.0.0.2",
            Optional.empty(),
            base.clusterId(),
            base.lease(),
            base.maxFrameBytes(),
            base.storage(),
            -1,
            Map.of(),
            base.drainTimeout());
    try (Broker a = Broker.start(heldConfig);
        Broker b = Broker.start(BrokerConfig.local("held-b", storage));
        RequestHoldingProxy proxy =
            new RequestHoldingProxy(
                "127.0.0.2", a.port(), new InetSocketAddress("127.0.0.1", a.port()));
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + b.port()))) {
      TopicPartition tp = new TopicPartition("held", 0);
      // Partition 1 stays on b, so that the producer holds a ready connection to b on which
      // nothing waits: its metadata requests go there, not behind the held request to a.
      TopicPartition onB = new TopicPartition("held", 1);
      admin.createTopics(List.of(new NewTopic("held", 2, (short) 1))).all().get();
      Awaitility.await()
          .until(() -> a.ownedPartitions("held").size() + b.ownedPartitions("held").size() == 2);
      moveTo(admin, tp, a);
      moveTo(admin, onB, b);

      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + b.port());
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
      // So that the producer learns the new owner while its first batch is still in flight.
      p.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, "300");
      // Short enough that a stalled batch fails the test quickly, long enough for the steps below.
      p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "20000");
      p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "25000");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        producer.send(new ProducerRecord<>("held", 1, "k", "warm-up")).get();
        proxy.holdNext(ApiKeys.PRODUCE);
        Future<RecordMetadata> first = producer.send(new ProducerRecord<>("held", 0, "k", "first"));
        Awaitility.await().until(() -> proxy.held() == 1);

        moveTo(admin, tp, b);
        // partitionsFor lists partitions in no particular order: find partition 0 by its index.
        Awaitility.await()
            .until(
                () ->
                    producer.partitionsFor("held").stream()
                        .anyMatch(
                            p0 ->
                                p0.partition() == 0
                                    && p0.leader() != null
                                    && p0.leader().id() == b.nodeId()));
        Future<RecordMetadata> second =
            producer.send(new ProducerRecord<>("held", 0, "k", "second"));
        // b has answered the second batch: acknowledged (the bug) or refused and queued for retry.
        Awaitility.await().until(() -> second.isDone() || retries(producer) > 0);
        proxy.release();

        assertThat(first.get().offset()).isEqualTo(0L);
        assertThat(second.get().offset()).isEqualTo(1L);
        assertThat(producer.send(new ProducerRecord<>("held", 0, "k", "third")).get().offset())
            .isEqualTo(2L);
      }
      assertThat(readAll(b, tp, 3)).containsExactly("first", "second", "third");
    }
  }

  /** Moves {@code tp} to {@code target} and keeps it there: balancing leaves it alone. */
  private static void moveTo(Admin admin, TopicPartition tp, Broker target) throws Exception {
    admin
        .alterPartitionReassignments(
            Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(target.nodeId())))))
        .all()
        .get();
    Awaitility.await().until(() -> owns(target, tp));
  }

  private static boolean owns(Broker broker, TopicPartition tp) {
    return broker.ownedPartitions(tp.topic()).stream()
        .anyMatch(id -> id.partition() == tp.partition());
  }

  private static double retries(KafkaProducer<?, ?> producer) {
    return producer.metrics().entrySet().stream()
        .filter(
            e ->
                e.getKey().name().equals("record-retry-total")
                    && e.getKey().group().equals("producer-metrics"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .sum();
  }

  private static List<String> readAll(Broker broker, TopicPartition tp, int count) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + broker.port());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (values.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
      }
      assertThat(consumer.endOffsets(List.of(tp)).get(tp)).isEqualTo((long) count);
    }
    return values;
  }

  @Test
  void aStockProducerKeepsProducingAcrossATopicDeletedAndReCreated() throws Exception {
    // The end-to-end view with the Java client. librdkafka continues its sequence numbers into the
    // new topic; the raw test above is what stands for it.
    try (Broker broker = Broker.start(BrokerConfig.local("recreate", TestStorage.fresh()))) {
      String bootstrap = "127.0.0.1:" + broker.port();
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
      try (Admin admin =
              Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
          KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        admin.createTopics(List.of(new NewTopic("again", 1, (short) 1))).all().get();
        for (int i = 0; i < 20; i++) {
          producer.send(new ProducerRecord<>("again", 0, "k", "old" + i)).get();
        }
        admin.deleteTopics(List.of("again")).all().get();
        Awaitility.await().until(() -> !admin.listTopics().names().get().contains("again"));
        Awaitility.await()
            .ignoreExceptions()
            .until(
                () -> {
                  admin.createTopics(List.of(new NewTopic("again", 1, (short) 1))).all().get();
                  return true;
                });
        Awaitility.await().until(() -> broker.ownedPartitions("again").size() == 1);
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          offsets.add(
              producer.send(new ProducerRecord<>("again", 0, "k", "new" + i)).get().offset());
        }
        assertThat(offsets).first().isEqualTo(0L);
        assertThat(offsets).isSorted().doesNotHaveDuplicates().hasSize(20);
      }
    }
  }

  private static Errors produceRaw(Broker broker, int baseSequence, String value) throws Exception {
    return produceRaw(broker, "fresh", 9001L, baseSequence, value);
  }

  private static Errors produceRaw(
      Broker broker, String topicName, long producerId, int baseSequence, String value)
      throws Exception {
    return produceRaw(broker, topicName, producerId, (short) 0, baseSequence, value);
  }

  private static Errors produceRaw(
      Broker broker,
      String topicName,
      long producerId,
      short producerEpoch,
      int baseSequence,
      String value)
      throws Exception {
    ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
    ProduceRequestData.TopicProduceData topic =
        new ProduceRequestData.TopicProduceData().setName(topicName);
    topic
        .partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(0)
                .setRecords(
                    MemoryRecords.withIdempotentRecords(
                        Compression.NONE,
                        producerId,
                        producerEpoch,
                        baseSequence,
                        new SimpleRecord(value.getBytes(StandardCharsets.UTF_8)))));
    data.topicData().add(topic);
    ProduceResponse response =
        (ProduceResponse) RawKafkaClient.send(broker.port(), new ProduceRequest(data, (short) 3));
    return Errors.forCode(
        response.data().responses().iterator().next().partitionResponses().get(0).errorCode());
  }
}
