package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Consumer groups through Kafka's embedded group coordinator on a 3-broker cluster, with the
 * classic protocol and with KIP-848 (group.protocol=consumer): members join and leave and the
 * partitions follow them, and committed offsets survive a restart of every broker.
 */
class GroupsIT {

  private static final String TOPIC = "events";
  private static final int PARTITIONS = 6;

  private final List<Broker> brokers = new ArrayList<>();
  private StorageConfig storage;

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  private String startBrokers() throws Exception {
    for (int i = 0; i < 3; i++) {
      brokers.add(
          Broker.start(
              BrokerConfig.local("group-broker-" + brokers.size(), storage)
                  .withGroupCoordinator(
                      Map.of(
                          "group.initial.rebalance.delay.ms", "0",
                          "offsets.topic.num.partitions", "12"))));
    }
    return brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
  }

  @ParameterizedTest
  @ValueSource(strings = {"classic", "consumer"})
  void membersShareAndHandOverPartitionsAndOffsetsSurviveRestart(String protocol) throws Exception {
    storage = TestStorage.fresh();
    String bootstrap = startBrokers();
    String group = "group-" + protocol;
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
      assertThat(admin.listTopics().names().get())
          .contains(TOPIC)
          .doesNotContain("__consumer_offsets");
    }
    produce(bootstrap, 0, 600);

    Map<String, String> seen = new ConcurrentHashMap<>();
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      members.add(new Member(bootstrap, group, protocol, seen).start());
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              assertThat(seen).hasSize(600);
              assertThat(members).allSatisfy(m -> assertThat(m.assigned).isNotEmpty());
              assertThat(members.stream().mapToInt(m -> m.assigned.size()).sum())
                  .isEqualTo(PARTITIONS);
            });
    assertThat(members.stream().mapToInt(m -> m.duplicates.size()).sum()).isZero();

    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      assertThat(admin.listGroups().all().get()).extracting(GroupListing::groupId).contains(group);
      ConsumerGroupDescription d =
          admin.describeConsumerGroups(List.of(group)).all().get().get(group);
      assertThat(d.members()).hasSize(3);
    }

    // One member leaves: the other two take over its partitions and read what comes next.
    Member leaving = members.remove(0);
    leaving.stop();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(members.stream().mapToInt(m -> m.assigned.size()).sum())
                    .isEqualTo(PARTITIONS));
    produce(bootstrap, 600, 300);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(seen).hasSize(900));
    for (Member m : members) {
      m.stop();
    }
    assertThat(members.stream().mapToInt(m -> m.duplicates.size()).sum()).isZero();

    Map<TopicPartition, OffsetAndMetadata> committed;
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    }
    assertThat(committed).hasSize(PARTITIONS);
    assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum())
        .isEqualTo(900);

    // Every broker restarts; the group's offsets are replayed from the offsets topic.
    brokers.forEach(Broker::close);
    brokers.clear();
    bootstrap = startBrokers();
    produce(bootstrap, 900, 50);
    Map<String, String> after = new ConcurrentHashMap<>();
    Member again = new Member(bootstrap, group, protocol, after).start();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(after).hasSize(50));
    again.stop();
    assertThat(after.keySet())
        .allSatisfy(v -> assertThat(Integer.parseInt(v.substring(6))).isGreaterThanOrEqualTo(900));

    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.deleteConsumerGroups(List.of(group)).all().get();
      assertThat(admin.listGroups().all().get())
          .extracting(GroupListing::groupId)
          .doesNotContain(group);
    }
  }

  @Test
  void committedOffsetsSurviveTheKillOfTheCoordinator() throws Exception {
    storage = TestStorage.fresh();
    Duration lease = Duration.ofSeconds(3);
    for (int i = 0; i < 3; i++) {
      BrokerConfig base = BrokerConfig.local("coordinator-" + i, storage);
      brokers.add(
          Broker.start(
              new BrokerConfig(
                  base.instanceId(),
                  base.listenHost(),
                  0,
                  base.advertisedHost(),
                  base.rack(),
                  base.clusterId(),
                  lease,
                  base.maxFrameBytes(),
                  base.storage(),
                  0,
                  Map.of(
                      "group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "6"),
                  base.drainTimeout())));
    }
    String bootstrap =
        brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
    String group = "survivor-group";
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    for (int p = 0; p < 3; p++) {
      commits.put(new TopicPartition(TOPIC, p), new OffsetAndMetadata(100L * (p + 1), "m" + p));
    }
    int coordinator;
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get();
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .untilAsserted(() -> admin.alterConsumerGroupOffsets(group, commits).all().get());
      coordinator =
          admin.describeConsumerGroups(List.of(group)).all().get().get(group).coordinator().id();
    }
    String scrape = scrape(brokers.get(0));
    assertThat(scrape).contains("kafka_group_coordinator");

    // kill -9 of the coordinator: its offsets partition fails over and is replayed elsewhere.
    Broker victim =
        brokers.stream().filter(b -> b.nodeId() == coordinator).findFirst().orElseThrow();
    brokers.remove(victim);
    victim.halt();
    long killed = System.nanoTime();
    String survivors =
        brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, survivors))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () ->
                  assertThat(
                          admin
                              .listConsumerGroupOffsets(group)
                              .partitionsToOffsetAndMetadata()
                              .get())
                      .isEqualTo(commits));
      long failoverMs = (System.nanoTime() - killed) / 1_000_000;
      assertThat(
              admin
                  .describeConsumerGroups(List.of(group))
                  .all()
                  .get()
                  .get(group)
                  .coordinator()
                  .id())
          .isNotEqualTo(coordinator);
      System.out.println(
          "coordinator failover: offsets readable again after " + failoverMs + " ms");
    }
  }

  private static String scrape(Broker broker) throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    return http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics"))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static void produce(String bootstrap, int from, int count) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = from; i < from + count; i++) {
        producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "value-" + i));
      }
      producer.flush();
    }
  }

  /** One consumer polling on its own thread; it commits on close (enable.auto.commit). */
  private static final class Member {
    final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();
    final List<String> duplicates = new CopyOnWriteArrayList<>();
    private final KafkaConsumer<String, String> consumer;
    private final Map<String, String> seen;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private Thread thread;
    private volatile Throwable failure;

    Member(String bootstrap, String group, String protocol, Map<String, String> seen) {
      Properties c = new Properties();
      c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
      c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      this.consumer = new KafkaConsumer<>(c);
      this.seen = seen;
    }

    Member start() {
      thread =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      consumer.subscribe(
                          List.of(TOPIC),
                          new ConsumerRebalanceListener() {
                            @Override
                            public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                              consumer.commitSync();
                              assigned.removeAll(parts);
                            }

                            @Override
                            public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                              assigned.addAll(parts);
                            }
                          });
                      while (running.get()) {
                        for (ConsumerRecord<String, String> r :
                            consumer.poll(Duration.ofMillis(100))) {
                          if (seen.put(r.value(), r.topic() + "-" + r.partition()) != null) {
                            duplicates.add(r.value());
                          }
                        }
                      }
                    } catch (Throwable t) {
                      failure = t;
                    } finally {
                      consumer.close();
                    }
                  });
      return this;
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join(Duration.ofSeconds(60));
      assertThat(failure).as("consumer failed").isNull();
    }
  }
}
