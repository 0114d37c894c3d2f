package dev.diskless.broker.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A stock Kafka producer with its defaults (idempotent, acks=all) writing unique values round-robin
 * over a topic's partitions from a background thread, recording every acknowledgement and when it
 * arrived; {@link #verify} then reads the topic back with a stock consumer and checks that every
 * acknowledged value is there exactly once, at the offset it was acknowledged at, and that no value
 * appears twice.
 */
public final class AckedWorkload implements AutoCloseable {

  private final String topic;
  private final int partitions;
  private final KafkaProducer<String, String> producer;
  private final Map<String, long[]> acked = new ConcurrentHashMap<>();

  /** Per partition: when each acknowledged record was sent → when its acknowledgement came. */
  private final List<ConcurrentSkipListMap<Long, Long>> ackTimes = new ArrayList<>();

  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread sender;

  public AckedWorkload(String bootstrap, String topic, int partitions) {
    this.topic = topic;
    this.partitions = partitions;
    for (int p = 0; p < partitions; p++) {
      ackTimes.add(new ConcurrentSkipListMap<>());
    }
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    producer = new KafkaProducer<>(props);
    sender = Thread.ofPlatform().name("acked-workload-" + topic).start(this::run);
  }

  private void run() {
    for (int i = 0; running.get(); i++) {
      String value = topic + "-" + i;
      int partition = i % partitions;
      long sent = System.nanoTime();
      producer.send(
          new ProducerRecord<>(topic, partition, null, value),
          (md, e) -> {
            if (e != null) {
              failures.add(value + ": " + e);
            } else {
              acked.put(value, new long[] {md.partition(), md.offset()});
              ackTimes.get(md.partition()).put(sent, System.nanoTime());
            }
          });
      try {
        Thread.sleep(3);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * For records sent at or after {@code sinceNanos}: when every partition had acknowledged one of
   * them (the latest of the partitions' first such acknowledgements); empty while some partition
   * has none yet. Records sent earlier and answered late do not count: this measures when the
   * cluster serves new writes again.
   */
  public OptionalLong everyPartitionAckedSince(long sinceNanos) {
    long latest = Long.MIN_VALUE;
    for (ConcurrentSkipListMap<Long, Long> times : ackTimes) {
      OptionalLong first =
          times.tailMap(sinceNanos).values().stream().mapToLong(Long::longValue).min();
      if (first.isEmpty()) {
        return OptionalLong.empty();
      }
      latest = Math.max(latest, first.getAsLong());
    }
    return OptionalLong.of(latest);
  }

  /**
   * Per partition: milliseconds from {@code sinceNanos} to the first acknowledgement of a record
   * sent at or after it (-1 if none yet), for the test's report.
   */
  public List<Long> firstAckMillisSince(long sinceNanos) {
    List<Long> out = new ArrayList<>();
    for (ConcurrentSkipListMap<Long, Long> times : ackTimes) {
      OptionalLong first =
          times.tailMap(sinceNanos).values().stream().mapToLong(Long::longValue).min();
      out.add(first.isEmpty() ? -1 : (first.getAsLong() - sinceNanos) / 1_000_000);
    }
    return out;
  }

  public int acknowledged() {
    return acked.size();
  }

  public List<String> failures() {
    return failures;
  }

  /** Stops sending and waits until every record sent has been answered. */
  public void stop() throws InterruptedException {
    running.set(false);
    sender.join();
    producer.flush();
  }

  /** Reads the whole topic back and checks every acknowledgement against it. */
  public void verify(String bootstrap) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    Map<String, List<long[]>> read = new HashMap<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        assertThat(System.nanoTime()).as("read to the end in time").isLessThan(deadline);
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          read.computeIfAbsent(r.value(), v -> new ArrayList<>())
              .add(new long[] {r.partition(), r.offset()});
        }
      }
    }
    List<String> duplicates =
        read.entrySet().stream()
            .filter(e -> e.getValue().size() > 1)
            .map(Map.Entry::getKey)
            .toList();
    assertThat(duplicates).as("values written twice").isEmpty();
    for (var e : acked.entrySet()) {
      assertThat(read.get(e.getKey()))
          .as("acknowledged " + e.getKey() + " at " + e.getValue()[0] + "/" + e.getValue()[1])
          .isNotNull()
          .singleElement()
          .isEqualTo(e.getValue());
    }
  }

  @Override
  public void close() {
    running.set(false);
    producer.close(Duration.ofSeconds(10));
  }
}
