package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka Streams 4.4 application with a state store — a word count: a repartition topic and a
 * RocksDB store backed by a compacted changelog, both internal topics Streams creates itself —
 * computes exact counts; the changelog is compacted; the application is stopped, its local state
 * deleted, and a new instance restores the store from the compacted changelog and goes on with
 * exact counts.
 */
class KafkaStreamsIT {

  private static final String APP = "wordcount";
  private static final String CHANGELOG = APP + "-counts-changelog";

  @RegisterExtension final LocalBroker broker = new LocalBroker("streams");

  @Test
  void aStateStoreIsRestoredFromItsCompactedChangelogAndCountsStayExact(@TempDir Path dir)
      throws Exception {
    try (Admin admin = broker.admin()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("words", 2, (short) 1), new NewTopic("word-counts", 2, (short) 1)))
          .all()
          .get();
    }
    Map<String, Long> expected = new HashMap<>();
    Random random = new Random(5);
    KafkaStreams first = streams(dir.resolve("state-1"));
    first.start();
    // In rounds, so that the changelog's updates span many WAL flushes: the newest part of a log
    // is its active part, never compacted, as Kafka's active segment.
    for (int round = 0; round < 8; round++) {
      produceWords(100, random, expected);
      awaitCounts(expected);
    }
    first.close(Duration.ofSeconds(30));

    // Streams created the changelog compacted; a maintenance run compacts it.
    try (Admin admin = broker.admin()) {
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, CHANGELOG);
      assertThat(admin.describeConfigs(List.of(r)).all().get().get(r).get("cleanup.policy").value())
          .isEqualTo("compact");
    }
    Thread.sleep(1_200);
    broker.get().engine().maintenance().runOnce().join();
    long changelogEnd = 0;
    long changelogRecords = 0;
    for (int p = 0; p < 2; p++) {
      TopicPartition tp = new TopicPartition(CHANGELOG, p);
      long[] endAndCount = readCount(tp);
      changelogEnd += endAndCount[0];
      changelogRecords += endAndCount[1];
    }
    // Every count update went to the changelog; compaction keeps about one per word.
    assertThat(changelogEnd).isGreaterThan(100);
    assertThat(changelogRecords).isLessThan(changelogEnd / 2);

    // A new instance with no local state restores the store from the changelog.
    assertThat(Files.exists(dir.resolve("state-2"))).isFalse();
    KafkaStreams second = streams(dir.resolve("state-2"));
    second.start();
    produceWords(400, random, expected);
    awaitCounts(expected);
    second.close(Duration.ofSeconds(30));
  }

  private KafkaStreams streams(Path stateDir) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream("words", Consumed.with(Serdes.String(), Serdes.String()))
        .groupBy((key, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
        .count(Materialized.as("counts"))
        .toStream()
        .to("word-counts", Produced.with(Serdes.String(), Serdes.Long()));
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
    // Configs for the internal topics Streams creates: the changelog's active part is the newest
    // second, and any dirty share makes a compaction run due.
    p.put(StreamsConfig.topicPrefix("segment.ms"), "1000");
    p.put(StreamsConfig.topicPrefix("min.cleanable.dirty.ratio"), "0.01");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // Streams does not leave its group on close: the new instance's rebalance waits until the old
    // member's session expires, 45 s by default (the same against Apache Kafka).
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), "6000");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), "1000");
    return new KafkaStreams(builder.build(), p);
  }

  private void produceWords(int n, Random random, Map<String, Long> expected) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < n; i++) {
        String word = "w" + random.nextInt(40);
        producer.send(new ProducerRecord<>("words", "line" + i, word));
        expected.merge(word, 1L, Long::sum);
      }
      producer.flush();
    }
  }

  /** Waits until the latest count of every word on the output topic is the expected one. */
  private void awaitCounts(Map<String, Long> expected) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class.getName());
    Map<String, Long> latest = new HashMap<>();
    try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> parts =
          List.of(new TopicPartition("word-counts", 0), new TopicPartition("word-counts", 1));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Awaitility.await()
          .atMost(90, TimeUnit.SECONDS)
          .until(
              () -> {
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(200))) {
                  latest.put(r.key(), r.value());
                }
                return latest.equals(expected);
              });
    }
  }

  /** The end offset of {@code tp} and how many records a reader from its start gets. */
  private long[] readCount(TopicPartition tp) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      consumer.assign(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      consumer.seekToBeginning(List.of(tp));
      long count = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return new long[] {end, count};
    }
  }
}
