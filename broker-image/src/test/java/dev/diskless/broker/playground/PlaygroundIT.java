package dev.diskless.broker.playground;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
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
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, in-process: a cluster whose data survives a restart with the same
 * directory, with its own S3Proxy or a store running apart (as the benchmark runs it).
 */
class PlaygroundIT {

  @Test
  void aTwoBrokerPlaygroundServesClientsAndKeepsItsDataAcrossARestart(@TempDir Path dir)
      throws Exception {
    List<String> sent;
    try (Playground playground = new Playground(dir, 2)) {
      String bootstrap = playground.bootstrapServers();
      assertThat(bootstrap.split(",")).hasSize(2);
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        assertThat(admin.describeCluster().nodes().get()).hasSize(2);
      }
      sent = produce(bootstrap);
    }
    try (Playground again = new Playground(dir, 2)) {
      assertThat(readAll(again.bootstrapServers(), sent.size()))
          .containsExactlyInAnyOrderElementsOf(sent);
    }
  }

  @Test
  void aPlaygroundKeepsItsObjectsInAStoreRunningApart(@TempDir Path dir, @TempDir Path storeDir)
      throws Exception {
    try (LocalObjectStore store = LocalObjectStore.start(storeDir, 0)) {
      Playground.Options options =
          Playground.Options.of(1).withObjectStore(Playground.ObjectStore.local(store.endpoint()));
      List<String> sent;
      try (Playground playground = new Playground(dir, options)) {
        sent = produce(playground.bootstrapServers());
      }
      // Everything the broker wrote is in the store's directory, nothing in the playground's.
      assertThat(dir.resolve("s3")).doesNotExist();
      try (var files = Files.walk(storeDir.resolve(LocalObjectStore.BUCKET))) {
        assertThat(files.filter(Files::isRegularFile).count()).isPositive();
      }
      try (Playground again = new Playground(dir, options)) {
        assertThat(readAll(again.bootstrapServers(), sent.size()))
            .containsExactlyInAnyOrderElementsOf(sent);
      }
    }
  }

  /** Creates topic events (4 partitions) and sends 200 records to it, each acknowledged. */
  private static List<String> produce(String bootstrap) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic("events", 4, (short) 1))).all().get();
    }
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    List<String> sent = new ArrayList<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < 200; i++) {
        producer.send(new ProducerRecord<>("events", "k" + i, "e" + i)).get();
        sent.add("e" + i);
      }
    }
    return sent;
  }

  /** The values in topic events from its beginning, until {@code expected} or 60 s passed. */
  private static List<String> readAll(String bootstrap, int expected) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    List<String> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        partitions.add(new TopicPartition("events", i));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (received.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          received.add(r.value());
        }
      }
    }
    return received;
  }

  @Test
  void aSecurePlaygroundServesItsClientPropertiesAndNobodyElse(@TempDir Path dir) throws Exception {
    try (Playground playground = new Playground(dir, Playground.Options.of(1).withSecurity())) {
      Path file = playground.clientProperties().orElseThrow();
      // The file as a user hands it to a client or tool, plus the bootstrap servers.
      Properties client = new Properties();
      try (var in = java.nio.file.Files.newInputStream(file)) {
        client.load(in);
      }
      assertThat(client.getProperty("security.protocol")).isEqualTo("SASL_SSL");
      client.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, playground.bootstrapServers());
      try (Admin admin = Admin.create(client)) {
        admin.createTopics(List.of(new NewTopic("secured", 1, (short) 1))).all().get();
        assertThat(admin.describeCluster().nodes().get()).hasSize(1);
        // ACLs are on: admin, the super user, manages them.
        assertThat(
                admin.describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY).values().get())
            .isEmpty();
      }
      Properties plaintext = new Properties();
      plaintext.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, playground.bootstrapServers());
      plaintext.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
      plaintext.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
      try (Admin stranger = Admin.create(plaintext)) {
        assertThat(stranger.listTopics().names())
            .failsWithin(Duration.ofSeconds(20))
            .withThrowableOfType(java.util.concurrent.ExecutionException.class);
      }
    }
  }
}
