package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.config.ListenerConfig;
import dev.diskless.broker.security.AuthorizationConfig;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.testing.SaslClients;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two brokers with two named listeners each, as a cluster with an internal and an external network
 * has them: EXTERNAL (SASL_PLAINTEXT, advertised as {@code localhost}) for clients and the
 * inter-broker listener, INTERNAL (PLAINTEXT, advertised as {@code 127.0.0.1}). Each listener's
 * clients are told that listener's addresses on every broker, and with ACLs enforced (no ACL for
 * anyone but the admin super user) a transaction spanning both brokers commits: the markers between
 * brokers go over the SASL listener as the admin, not as an anonymous client.
 */
class ListenersIT {

  private StorageConfig storage;
  private Broker first;
  private Broker second;

  @BeforeEach
  void start() throws Exception {
    storage = TestStorage.fresh();
    first = Broker.start(config("listeners-a"), StorageMetrics.noExport());
    second = Broker.start(config("listeners-b"), StorageMetrics.noExport());
  }

  @AfterEach
  void stop() {
    if (second != null) {
      second.close();
    }
    if (first != null) {
      first.close();
    }
  }

  private BrokerConfig config(String instance) {
    SecurityConfig sasl =
        SecurityConfig.sasl("SCRAM-SHA-512")
            .withBootstrapUser("admin", "admin-secret")
            .withAuthorization(new AuthorizationConfig(Set.of("User:admin"), false));
    SecurityConfig plaintext =
        SecurityConfig.PLAINTEXT.withAuthorization(
            new AuthorizationConfig(Set.of("User:admin"), false));
    return BrokerConfig.local(instance, storage)
        .withListeners(
            List.of(
                new ListenerConfig("EXTERNAL", "127.0.0.1", 0, "localhost", 0, sasl),
                new ListenerConfig("INTERNAL", "127.0.0.1", 0, "127.0.0.1", 0, plaintext)),
            "EXTERNAL");
  }

  private Map<String, Object> admin() {
    return SaslClients.config(
        "localhost:" + first.port("external"), "SCRAM-SHA-512", "admin", "admin-secret");
  }

  @Test
  void eachListenerAdvertisesItsOwnAddresses() throws Exception {
    try (Admin external = Admin.create(admin());
        Admin internal =
            Admin.create(
                Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + second.port("INTERNAL")))) {
      assertThat(nodes(external))
          .containsExactlyInAnyOrder(
              "localhost:" + first.port("EXTERNAL"), "localhost:" + second.port("EXTERNAL"));
      // An anonymous client learns the brokers, not the topics.
      assertThat(nodes(internal))
          .containsExactlyInAnyOrder(
              "127.0.0.1:" + first.port("INTERNAL"), "127.0.0.1:" + second.port("INTERNAL"));
      assertThat(internal.listTopics().names().get()).isEmpty();
      external.createTopics(List.of(new NewTopic("visible", 1, (short) 1))).all().get();
      // The other broker learns of the topic when its cluster view is told.
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(external.listTopics().names().get()).contains("visible"));
    }
  }

  private static List<String> nodes(Admin admin) throws Exception {
    List<String> out = new ArrayList<>();
    for (Node n : admin.describeCluster().nodes().get()) {
      out.add(n.host() + ":" + n.port());
    }
    return out;
  }

  @Test
  void aTransactionAcrossBrokersCommitsWithMarkersSentAsTheAdmin() throws Exception {
    // Committed on every partition, so markers reached the broker that does not coordinate.
    assertThat(committedAcrossBrokers(first, second, admin())).isEqualTo(8);
  }

  /**
   * Commits one transaction of 8 records over a topic whose 8 partitions both brokers own, as
   * {@code client} (allowed everything); how many a read_committed consumer then reads: 8 only when
   * the markers reached both brokers.
   */
  static int committedAcrossBrokers(Broker first, Broker second, Map<String, Object> client)
      throws Exception {
    try (Admin admin = Admin.create(client)) {
      admin.createTopics(List.of(new NewTopic("payments", 8, (short) 1))).all().get();
    }
    // Ownership is taken up asynchronously after creation.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                first.ownedPartitions("payments").size() + second.ownedPartitions("payments").size()
                    == 8);
    assertThat(first.ownedPartitions("payments")).isNotEmpty();
    assertThat(second.ownedPartitions("payments")).isNotEmpty();
    Map<String, Object> producer = new HashMap<>(client);
    producer.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "payments-tx");
    try (KafkaProducer<String, String> p =
        new KafkaProducer<>(producer, new StringSerializer(), new StringSerializer())) {
      p.initTransactions();
      p.beginTransaction();
      for (int i = 0; i < 8; i++) {
        p.send(new ProducerRecord<>("payments", i, "k" + i, "v" + i));
      }
      p.commitTransaction();
    }
    Map<String, Object> consumer = new HashMap<>(client);
    consumer.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(consumer, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        all.add(new TopicPartition("payments", i));
      }
      c.assign(all);
      Set<String> read = new HashSet<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read.size() < 8 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          read.add(r.value());
        }
      }
      return read.size();
    }
  }
}
