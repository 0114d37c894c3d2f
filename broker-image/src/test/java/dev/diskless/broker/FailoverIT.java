package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
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

/**
 * A broker is killed (no clean shutdown) while an idempotent producer with acks=all writes to
 * partitions on both brokers. After its lease expires the survivor takes its partitions over; every
 * acknowledged record is then read exactly once, at the offset it was acknowledged at.
 */
class FailoverIT {

  @Test
  void everyAcknowledgedRecordSurvivesTheKillOfItsOwner() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    Duration lease = Duration.ofSeconds(3);
    Broker survivor = Broker.start(config("a", storage, lease));
    Broker victim = Broker.start(config("b", storage, lease));
    String bootstrap = "127.0.0.1:" + survivor.port() + ",127.0.0.1:" + victim.port();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic("failover", 4, (short) 1))).all().get();
    }
    org.awaitility.Awaitility.await()
        .until(
            () ->
                survivor.ownedPartitions("failover").size()
                        + victim.ownedPartitions("failover").size()
                    == 4);
    assertThat(victim.ownedPartitions("failover")).isNotEmpty();
    Set<Integer> victimPartitions = new HashSet<>();
    victim.ownedPartitions("failover").forEach(tp -> victimPartitions.add(tp.partition()));

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    Map<String, long[]> acked = new ConcurrentHashMap<>();
    List<String> failed = new CopyOnWriteArrayList<>();
    AtomicLong killedAt = new AtomicLong();
    AtomicLong firstAckAfterKill = new AtomicLong();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < 2000; i++) {
        String value = "v" + i;
        producer.send(
            new ProducerRecord<>("failover", i % 4, null, value),
            (md, e) -> {
              if (e != null) {
                failed.add(value);
              } else {
                acked.put(value, new long[] {md.partition(), md.offset()});
                long k = killedAt.get();
                if (k > 0 && victimPartitions.contains(md.partition())) {
                  firstAckAfterKill.compareAndSet(0, System.nanoTime());
                }
              }
            });
        if (i == 500) {
          producer.flush();
          killedAt.set(System.nanoTime());
          victim.halt();
        }
        if (i % 50 == 0) {
          Thread.sleep(10);
        }
      }
      producer.flush();
    }
    double failoverSeconds = (firstAckAfterKill.get() - killedAt.get()) / 1e9;
    System.out.printf(
        "failover: first acknowledged produce to a killed broker's partition %.2f s after the kill (lease %s)%n",
        failoverSeconds, lease);
    assertThat(failed).isEmpty();
    assertThat(acked).hasSize(2000);
    assertThat(survivor.ownedPartitions("failover")).hasSize(4);

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + survivor.port());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    Map<String, long[]> read = new HashMap<>();
    Set<String> duplicates = new HashSet<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        partitions.add(new TopicPartition("failover", i));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (read.size() < acked.size() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (read.put(r.value(), new long[] {r.partition(), r.offset()}) != null) {
            duplicates.add(r.value());
          }
        }
      }
    }
    assertThat(duplicates).isEmpty();
    for (var e : acked.entrySet()) {
      assertThat(read.get(e.getKey()))
          .as("acknowledged " + e.getKey())
          .containsExactly(e.getValue());
    }
    survivor.close();
  }

  private static BrokerConfig config(String name, StorageConfig storage, Duration lease) {
    return new BrokerConfig(
        name,
        "127.0.0.1",
        0,
        "127.0.0.1",
        Optional.empty(),
        "failover",
        lease,
        100 << 20,
        storage,
        0,
        java.util.Map.of(),
        Duration.ofSeconds(30));
  }
}
