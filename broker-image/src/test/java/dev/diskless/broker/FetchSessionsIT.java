package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.testing.RawKafkaClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Incremental fetch sessions (KIP-227) with a stock consumer and on the wire: the consumer's
 * fetches after the first name only partitions whose position moved, and every record still arrives
 * once; a session's responses carry only partitions with news, and out-of-step requests get Kafka's
 * session errors.
 */
class FetchSessionsIT {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Broker broker;

  @BeforeEach
  void start() throws Exception {
    broker =
        Broker.start(
            BrokerConfig.local("sessions", TestStorage.fresh()), new StorageMetrics(registry));
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  @Test
  void aConsumerOfManyPartitionsFetchesIncrementallyAndGetsEveryRecordOnce() throws Exception {
    Uuid id = createTopic("many", 32);
    produce("many", 0, 320);
    Set<String> seen = new HashSet<>();
    int duplicates = 0;
    try (KafkaConsumer<String, String> consumer = consumer()) {
      List<TopicPartition> all = new ArrayList<>();
      for (int p = 0; p < 32; p++) {
        all.add(new TopicPartition("many", p));
      }
      consumer.assign(all);
      consumer.seekToBeginning(all);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      boolean producedMore = false;
      while (seen.size() < 640 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (!seen.add(r.value())) {
            duplicates++;
          }
        }
        if (!producedMore && seen.size() >= 320) {
          // Written while the session runs: heard through its incremental responses.
          produce("many", 320, 640);
          producedMore = true;
        }
      }
    }
    assertThat(id).isNotNull();
    assertThat(seen).hasSize(640);
    assertThat(duplicates).isZero();
    assertThat(requests("full")).isPositive();
    assertThat(requests("incremental")).isGreaterThan(requests("full"));
    assertThat(requests("error")).isZero();
  }

  @Test
  void aSessionAnswersOnlyPartitionsWithNewsAndRefusesAnOutOfStepEpoch() throws Exception {
    Uuid topic = createTopic("wire", 4);
    produce("wire", 0, 4);
    try (Socket s = new Socket("127.0.0.1", broker.port())) {
      FetchResponseData full = fetch(s, 1, 0, 0, topic, List.of(0, 1, 2, 3), 0);
      assertThat(full.errorCode()).isZero();
      assertThat(partitions(full)).containsExactlyInAnyOrder(0, 1, 2, 3);
      int session = full.sessionId();
      assertThat(session).isPositive();

      // Each partition moves past the record it got; nothing new since: an empty answer.
      FetchResponseData quiet = fetch(s, 2, session, 1, topic, List.of(0, 1, 2, 3), 1);
      assertThat(quiet.sessionId()).isEqualTo(session);
      assertThat(partitions(quiet)).isEmpty();

      produce("wire", 4, 5);
      FetchResponseData news = awaitNews(s, session, topic);
      assertThat(partitions(news)).hasSize(1);
      assertThat(FetchResponse.recordsSize(news.responses().get(0).partitions().get(0)))
          .isPositive();

      FetchResponseData replayed = fetch(s, 9, session, 1, topic, List.of(), 0);
      assertThat(Errors.forCode(replayed.errorCode()))
          .isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
      FetchResponseData unknown = fetch(s, 10, session + 1, 1, topic, List.of(), 0);
      assertThat(Errors.forCode(unknown.errorCode())).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
    }
  }

  /** Incremental fetches (epochs 2, 3, ...) until one answers a partition. */
  private FetchResponseData awaitNews(Socket s, int session, Uuid topic) throws Exception {
    for (int epoch = 2; epoch < 100; epoch++) {
      FetchResponseData r = fetch(s, 100 + epoch, session, epoch, topic, List.of(), 0);
      assertThat(r.errorCode()).isZero();
      if (!partitions(r).isEmpty()) {
        return r;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no partition answered");
  }

  private static FetchResponseData fetch(
      Socket s,
      int correlation,
      int session,
      int epoch,
      Uuid topic,
      List<Integer> partitions,
      long offset)
      throws Exception {
    FetchRequestData data =
        new FetchRequestData()
            .setReplicaId(-1)
            .setMaxWaitMs(0)
            .setMinBytes(0)
            .setMaxBytes(1 << 20)
            .setSessionId(session)
            .setSessionEpoch(epoch);
    if (!partitions.isEmpty()) {
      FetchTopic t = new FetchTopic().setTopicId(topic);
      partitions.forEach(
          p ->
              t.partitions()
                  .add(
                      new FetchPartition()
                          .setPartition(p)
                          .setFetchOffset(offset)
                          .setPartitionMaxBytes(1 << 20)));
      data.topics().add(t);
    }
    return ((FetchResponse) RawKafkaClient.send(s, correlation, new FetchRequest(data, (short) 17)))
        .data();
  }

  private static List<Integer> partitions(FetchResponseData r) {
    List<Integer> out = new ArrayList<>();
    r.responses().forEach(t -> t.partitions().forEach(p -> out.add(p.partitionIndex())));
    return out;
  }

  private double requests(String session) {
    Counter c = registry.find("diskless.fetch.requests").tag("session", session).counter();
    return c == null ? 0 : c.count();
  }

  private Uuid createTopic(String name, int partitions) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
      return admin
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
          .topicId(name)
          .get();
    }
  }

  /** Values {@code from}..{@code to}-1, one per partition in turn. */
  private void produce(String topic, int from, int to) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      int partitions = producer.partitionsFor(topic).size();
      for (int i = from; i < to; i++) {
        producer.send(new ProducerRecord<>(topic, i % partitions, null, "v" + i)).get();
      }
    }
  }

  private KafkaConsumer<String, String> consumer() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    // Small responses: the consumer comes back for the rest many times.
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 4096);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024);
    return new KafkaConsumer<>(p);
  }

  private String bootstrap() {
    return "127.0.0.1:" + broker.port();
  }
}
