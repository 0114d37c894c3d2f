package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.BrokerProcess;
import dev.diskless.storage.CrashPoints;
import dev.diskless.storage.StorageConfig;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * A compacted topic keeps its meaning while it is written, read and compacted at once, and while a
 * broker dies in the middle of a compaction run. Two brokers share a 4-partition compacted topic:
 * one in this JVM, one a separate process armed to halt — as kill -9 would — between its third
 * run's uploads and its metadata swap ({@link CrashPoints}). An idempotent producer sends random
 * keys, values and tombstones throughout; a reader reads the topic from its start over and over;
 * both brokers compact every half second. Checked against the history: within each read offsets
 * strictly increase; every record read is the one acknowledged at its offset (nothing inconsistent,
 * nothing phantom); no send fails; and after a last compaction a read from the start holds, for
 * every key, exactly its latest acknowledged record, with far fewer records than were sent.
 */
class CompactionUnderLoadIT {

  private static final String TOPIC = "table";
  private static final int PARTITIONS = 4;
  private static final int KEYS = 300;
  private static final Duration LEASE = Duration.ofSeconds(3);

  /** One send: a null value is a tombstone. */
  private record Sent(String key, String value) {}

  /** A record as read: partition, offset, key and value. */
  private record Read(int partition, long offset, String key, String value) {}

  @Test
  void readersSeeAConsistentLogWhileCompactionRunsAndABrokerDiesMidRun() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    storage = storage.withCompaction(storage.compaction().withInterval(Duration.ofMillis(500)));
    try (Broker survivor =
            Broker.start(BrokerConfig.local("compaction-survivor", storage).withLease(LEASE));
        BrokerProcess victim =
            BrokerProcess.start(
                "compaction-victim",
                storage.objectStore(),
                storage.metadata(),
                Map.of(
                    "lease.ms", Long.toString(LEASE.toMillis()), "compaction.interval.ms", "500"),
                Map.of(CrashPoints.ENV, CrashPoints.KEY_COMPACTION_BEFORE_SWAP + ":3"))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> victim.probe("/readyz") == 200);
      String bootstrap = "127.0.0.1:" + survivor.port() + ",127.0.0.1:" + victim.port();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin
            .createTopics(
                List.of(
                    new NewTopic(TOPIC, PARTITIONS, (short) 1)
                        .configs(
                            Map.of(
                                "cleanup.policy", "compact",
                                // All but the newest half second may be compacted.
                                "segment.ms", "500",
                                "min.cleanable.dirty.ratio", "0.01",
                                // Tombstones stay: the model keeps every key's last record.
                                "delete.retention.ms", "86400000"))))
            .all()
            .get();
      }
      // Both brokers own some of the topic, so the victim's runs compact it.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> survivor.ownedPartitions(TOPIC).size() == PARTITIONS / 2);

      Map<Long, Sent> acked = new ConcurrentHashMap<>();
      Map<String, Long> latestAcked = new ConcurrentHashMap<>();
      List<String> failed = new CopyOnWriteArrayList<>();
      List<String> anomalies = new CopyOnWriteArrayList<>();
      Map<Long, Read> everRead = new ConcurrentHashMap<>();
      AtomicBoolean producing = new AtomicBoolean(true);
      Thread reader =
          Thread.ofPlatform()
              .name("reader")
              .start(() -> readRepeatedly(bootstrap, producing, everRead, anomalies));

      int sent = 0;
      Random random = new Random(7);
      long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
        while (System.nanoTime() < stopAt) {
          String key = "k" + random.nextInt(KEYS);
          String value = random.nextInt(10) == 0 ? null : "v" + sent;
          Sent s = new Sent(key, value);
          producer.send(
              new ProducerRecord<>(TOPIC, key, value),
              (md, e) -> {
                if (e != null) {
                  failed.add(key + "=" + value + ": " + e);
                  return;
                }
                long id = id(md.partition(), md.offset());
                acked.put(id, s);
                latestAcked.merge(key, id, (a, b) -> offsetOf(a) > offsetOf(b) ? a : b);
              });
          sent++;
          if (sent % 25 == 0) {
            Thread.sleep(10);
          }
        }
        producer.flush();
      }
      producing.set(false);
      reader.join(Duration.ofSeconds(90).toMillis());

      // The victim halted at its crash point, as a killed process: exit 137, its log says where.
      assertThat(victim.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(victim.process().exitValue()).isEqualTo(137);
      assertThat(Files.readString(victim.log()))
          .contains("crash point " + CrashPoints.KEY_COMPACTION_BEFORE_SWAP + " reached");
      assertThat(failed).as("failed sends").isEmpty();
      assertThat(acked).hasSize(sent);
      // The victim may have halted late in the run: its partitions fail over within the lease.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> survivor.ownedPartitions(TOPIC).size() == PARTITIONS);

      // What the live reader saw: each record the one acknowledged at its offset.
      for (Read r : everRead.values()) {
        Sent s = acked.get(id(r.partition(), r.offset()));
        if (s == null || !s.key().equals(r.key()) || !Objects.equals(s.value(), r.value())) {
          anomalies.add("read " + r + " but acknowledged there: " + s);
        }
      }
      assertThat(anomalies).as("anomalies of the live reads").isEmpty();

      // A last compaction of everything older than the active part, then the whole log's meaning.
      Thread.sleep(600);
      survivor.engine().maintenance().runOnce().join();
      Map<Long, Read> last = new HashMap<>();
      List<String> lastAnomalies = new ArrayList<>();
      readOnce(bootstrap, last, lastAnomalies);
      assertThat(lastAnomalies).isEmpty();
      Map<String, Read> lastOfKey = new HashMap<>();
      for (Read r : last.values()) {
        lastOfKey.merge(r.key(), r, (a, b) -> a.offset() > b.offset() ? a : b);
        Sent s = acked.get(id(r.partition(), r.offset()));
        assertThat(s).as("record read at %s", r).isEqualTo(new Sent(r.key(), r.value()));
      }
      assertThat(lastOfKey.keySet()).isEqualTo(latestAcked.keySet());
      latestAcked.forEach(
          (key, id) -> {
            Read r = lastOfKey.get(key);
            assertThat(id(r.partition(), r.offset())).as("latest record of %s", key).isEqualTo(id);
          });
      assertThat(last.size()).isLessThan(sent / 4);
      System.out.printf(
          "compaction under load: %d sends (%d keys), %d records read live, %d left after"
              + " compaction, victim halted at %s%n",
          sent,
          latestAcked.size(),
          everRead.size(),
          last.size(),
          CrashPoints.KEY_COMPACTION_BEFORE_SWAP);
    }
  }

  /** Reads the topic from its start again and again until the producer has stopped. */
  private static void readRepeatedly(
      String bootstrap, AtomicBoolean producing, Map<Long, Read> everRead, List<String> anomalies) {
    while (producing.get()) {
      try {
        readOnce(bootstrap, everRead, anomalies);
      } catch (RuntimeException e) {
        // A broker dying mid-read: the next pass starts again.
      }
    }
  }

  /**
   * One read of every partition from its start to its end as of the start of the read, recording
   * into {@code into} (a record read again at an offset must be the same) and noting offsets that
   * do not strictly increase.
   */
  private static void readOnce(String bootstrap, Map<Long, Read> into, List<String> anomalies) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      for (int i = 0; i < PARTITIONS; i++) {
        parts.add(new TopicPartition(TOPIC, i));
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
      Map<Integer, Long> previous = new HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
          && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          Long before = previous.put(r.partition(), r.offset());
          if (before != null && r.offset() <= before) {
            anomalies.add(
                "partition " + r.partition() + " offset " + r.offset() + " after " + before);
          }
          Read read = new Read(r.partition(), r.offset(), r.key(), r.value());
          Read earlier = into.putIfAbsent(id(r.partition(), r.offset()), read);
          if (earlier != null && !earlier.equals(read)) {
            anomalies.add("offset read as " + earlier + " and later as " + read);
          }
        }
      }
    }
  }

  private static Properties producerProps(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    return p;
  }

  /** Partition and offset as one key: offsets stay far below 2^48 here. */
  private static long id(int partition, long offset) {
    return ((long) partition << 48) | offset;
  }

  private static long offsetOf(long id) {
    return id & ((1L << 48) - 1);
  }
}
