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
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Stock kafka-clients with their default settings against a real 3-broker cluster over S3Proxy and
 * PostgreSQL.
 */
class KafkaClientsIT {

  private final List<Broker> brokers = new ArrayList<>();
  private Broker broker;
  private String bootstrap;

  @BeforeEach
  void start() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    for (int i = 0; i < 3; i++) {
      brokers.add(Broker.start(BrokerConfig.local("broker-" + i, storage)));
    }
    broker = brokers.get(0);
    bootstrap = String.join(",", brokers.stream().map(b -> "127.0.0.1:" + b.port()).toList());
  }

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  private void assertOperationsEndpoint() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + broker.httpPort();
    for (String probe : List.of("/healthz", "/readyz")) {
      var r =
          http.send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + probe)).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(probe).isEqualTo(200);
    }
    String metrics =
        http.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains("diskless_requests_seconds_count{api=\"Produce\",outcome=\"response\"}")
        .contains("diskless_requests_seconds_count{api=\"Fetch\"")
        .contains("diskless_wal_flush_bytes_count")
        .contains("diskless_wal_commit_latency_seconds")
        .contains(
            "diskless_objectstore_requests_seconds_count{operation=\"put\",outcome=\"success\"}")
        .contains("jvm_memory_used_bytes");
  }

  @Test
  void defaultProducerAdminAndConsumerWork() throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
      admin
          .createTopics(
              List.of(
                  new NewTopic("compacted", 1, (short) 1)
                      .configs(Map.of("cleanup.policy", "compact"))))
          .all()
          .get();
      assertThat(admin.listTopics().names().get()).contains("orders", "compacted");
    }

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    Map<String, RecordMetadata> sent = new HashMap<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      List<Future<RecordMetadata>> futures = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        futures.add(producer.send(new ProducerRecord<>("orders", "key-" + (i % 17), "value-" + i)));
      }
      for (int i = 0; i < futures.size(); i++) {
        sent.put("value-" + i, futures.get(i).get());
      }
    }
    assertThat(sent.values()).extracting(RecordMetadata::partition).contains(0, 1, 2);
    // The controller spread the topic: each broker leads one partition.
    assertThat(brokers).allSatisfy(b -> assertThat(b.ownedPartitions("orders")).hasSize(1));

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    Map<String, ConsumerRecord<String, String>> received = new HashMap<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> partitions =
          List.of(
              new TopicPartition("orders", 0),
              new TopicPartition("orders", 1),
              new TopicPartition("orders", 2));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (received.size() < 300 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          assertThat(received.put(r.value(), r)).as("duplicate " + r.value()).isNull();
        }
      }
      assertThat(consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum())
          .isEqualTo(300);
      assertThat(consumer.beginningOffsets(partitions).values()).containsOnly(0L);
    }
    assertThat(received).hasSize(300);
    assertOperationsEndpoint();
    for (var e : sent.entrySet()) {
      ConsumerRecord<String, String> r = received.get(e.getKey());
      assertThat(r.partition()).isEqualTo(e.getValue().partition());
      assertThat(r.offset()).isEqualTo(e.getValue().offset());
    }
  }
}
