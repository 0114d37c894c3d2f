package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Consumer lag as a live broker's /metrics reports it: committed offsets of a real consumer group
 * against the partitions' high watermarks, following new records and the group's deletion.
 */
class ConsumerLagIT {

  private Broker broker;
  private String bootstrap;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    broker =
        Broker.start(
            BrokerConfig.local("lag", TestStorage.fresh())
                .withConsumerLagInterval(Duration.ofMillis(300)));
    bootstrap = "127.0.0.1:" + broker.port();
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void lagPerPartitionAndGroupFollowsCommitsAndNewRecords() throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic("events", 2, (short) 1))).all().get();
      produce(0, 100);
      produce(1, 50);
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  bootstrap,
                  ConsumerConfig.GROUP_ID_CONFIG,
                  "readers"),
              new StringDeserializer(),
              new StringDeserializer())) {
        consumer.commitSync(
            Map.of(
                new TopicPartition("events", 0), new OffsetAndMetadata(40),
                new TopicPartition("events", 1), new OffsetAndMetadata(50)));
      }
      awaitMetrics(
          "diskless_consumer_lag_records{group=\"readers\",partition=\"0\",topic=\"events\"} 60.0",
          "diskless_consumer_lag_records{group=\"readers\",partition=\"1\",topic=\"events\"} 0.0",
          "diskless_consumer_group_lag_records{group=\"readers\"} 60.0");
      produce(1, 10);
      awaitMetrics(
          "diskless_consumer_lag_records{group=\"readers\",partition=\"1\",topic=\"events\"} 10.0",
          "diskless_consumer_group_lag_records{group=\"readers\"} 70.0");
      admin.deleteConsumerGroups(List.of("readers")).all().get();
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(() -> assertThat(metrics()).doesNotContain("group=\"readers\""));
    }
  }

  private void produce(int partition, int count) throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
            new StringSerializer(),
            new StringSerializer())) {
      for (int i = 0; i < count; i++) {
        producer.send(new ProducerRecord<>("events", partition, "k", "v" + i));
      }
      producer.flush();
    }
  }

  private void awaitMetrics(String... lines) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(metrics()).contains(lines));
  }

  private String metrics() throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
