package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A compacted topic as stock Kafka clients see it: created and described with its policy, keyless
 * records refused as Kafka refuses them, and after a compaction run a consumer reading from the
 * start gets the latest value of each key at its original offset, with gaps where older values
 * were, and the log's end and start where they were.
 */
class CompactedTopicIT {

  @RegisterExtension final LocalBroker broker = new LocalBroker("compacted");

  @Test
  void aConsumerReadsTheLatestValueOfEachKeyAfterCompactionAtUnchangedOffsets() throws Exception {
    TopicPartition tp = new TopicPartition("table", 0);
    try (Admin admin = broker.admin()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("table", 1, (short) 1)
                      .configs(
                          Map.of(
                              "cleanup.policy", "compact",
                              // Everything but the newest second is outside the active part.
                              "segment.ms", "1000",
                              "min.cleanable.dirty.ratio", "0.01"))))
          .all()
          .get();
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, "table");
      ConfigEntry policy =
          admin.describeConfigs(List.of(r)).all().get().get(r).get("cleanup.policy");
      assertThat(policy.value()).isEqualTo("compact");
      assertThat(policy.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
    }

    Map<String, String> latest = new HashMap<>();
    int produced = 0;
    Random random = new Random(11);
    try (KafkaProducer<String, String> producer = producer()) {
      for (int i = 0; i < 600; i++) {
        String key = "k" + random.nextInt(25);
        String value = random.nextInt(10) == 0 ? null : key + "=" + i;
        producer.send(new ProducerRecord<>("table", 0, key, value));
        latest.put(key, value);
        produced++;
      }
      producer.flush();
      // A record without a key: refused as Kafka refuses it, nothing appended.
      var keyless = producer.send(new ProducerRecord<>("table", 0, null, "no key"));
      assertThat(keyless)
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableOfType(ExecutionException.class)
          .havingCause()
          .isInstanceOf(InvalidRecordException.class)
          .withMessageContaining("Compacted topic cannot accept message without key");
      // Age the records past segment.ms, then one more write becomes the active part.
      Thread.sleep(1_500);
      producer.send(new ProducerRecord<>("table", 0, "tail", "tail")).get();
      latest.put("tail", "tail");
      produced++;
    }

    broker.get().engine().maintenance().runOnce().join();

    List<ConsumerRecord<String, String>> read = readAll(tp, produced);
    assertThat(read.size()).isLessThan(produced);
    assertThat(read).extracting(ConsumerRecord::offset).isSorted().doesNotHaveDuplicates();
    Map<String, String> lastRead = new HashMap<>();
    Map<String, Integer> seen = new HashMap<>();
    for (ConsumerRecord<String, String> c : read) {
      lastRead.put(c.key(), c.value());
      seen.merge(c.key(), 1, Integer::sum);
    }
    // Every key ends at its latest value; tombstones stay until delete.retention.ms (a day).
    assertThat(lastRead).isEqualTo(latest);
    // Below the active part each key appears once.
    assertThat(seen.values()).allMatch(n -> n == 1);

    // As Kafka: records of a topic that does not delete cannot be deleted.
    try (Admin admin = broker.admin()) {
      assertThat(admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(10))).all())
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(ExecutionException.class)
          .havingCause()
          .isInstanceOf(PolicyViolationException.class);
    }
  }

  private KafkaProducer<String, String> producer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "2048");
    return new KafkaProducer<>(p);
  }

  /** Reads from the beginning until the end offset, which compaction leaves at {@code end}. */
  private List<ConsumerRecord<String, String>> readAll(TopicPartition tp, long end) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      consumer.assign(List.of(tp));
      assertThat(consumer.beginningOffsets(List.of(tp)).get(tp)).isZero();
      assertThat(consumer.endOffsets(List.of(tp)).get(tp)).isEqualTo(end);
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      assertThat(consumer.position(tp)).isEqualTo(end);
    }
    return out;
  }
}
