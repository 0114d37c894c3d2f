package dev.diskless.e2e.kube;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.TestBatches.Read;
import dev.diskless.storage.testing.history.History;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * An acks=all, idempotent producer sending unique values at a steady rate on a thread of its own,
 * every outcome logged in a RELIABILITY.md {@link History}; then a final read of every partition
 * and the check. Counts what clients saw: failed sends by exception, retries, and the longest
 * stretch one partition went without an acknowledgement (a fault's cost as clients feel it: for a
 * killed owner, its failover time).
 */
final class ProduceWorkload implements AutoCloseable {

  private final String topic;
  private final int partitions;
  private final String bootstrap;
  private final History history = new History();
  private final UUID topicKey = UUID.randomUUID();
  private final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicLong> lastAck = new ConcurrentHashMap<>();
  private final AtomicLong longestGap = new AtomicLong();
  private final AtomicLong acknowledged = new AtomicLong();
  private final KafkaProducer<String, String> producer;
  private final Thread thread;
  private volatile boolean running = true;
  private long sent;

  ProduceWorkload(String bootstrap, String topic, int partitions, int perSecond) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.partitions = partitions;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    thread =
        Thread.ofPlatform()
            .name("workload-" + topic)
            .start(
                () -> {
                  long interval = 1_000_000_000L / perSecond;
                  long next = System.nanoTime();
                  while (running) {
                    send();
                    next += interval;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                      try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  }
                });
  }

  private void send() {
    String value = topic + "-" + sent++;
    int partition = (int) (sent % partitions);
    long invoked = history.invoke();
    TopicPartitionId tp = new TopicPartitionId(topicKey, partition);
    producer.send(
        new ProducerRecord<>(topic, partition, null, value),
        (md, e) -> {
          if (e != null) {
            history.fail(tp, List.of(value));
            errors
                .computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong())
                .incrementAndGet();
          } else {
            history.ok(tp, md.offset(), List.of(value), invoked);
            acknowledged.incrementAndGet();
            long now = System.nanoTime();
            long before =
                lastAck.computeIfAbsent(partition, k -> new AtomicLong(now)).getAndSet(now);
            longestGap.accumulateAndGet(now - before, Math::max);
          }
        });
  }

  /** Sends acknowledged so far. */
  long acknowledged() {
    return acknowledged.get();
  }

  /**
   * A record another reader (a live consumer) saw: checked against the final read, like every
   * acknowledgement.
   */
  void observed(int partition, long offset, String value) {
    history.observed(new TopicPartitionId(topicKey, partition), offset, value);
  }

  /** Stops sending and waits until every send so far is acknowledged or failed. */
  void stopSending() throws InterruptedException {
    running = false;
    thread.join();
    producer.flush();
  }

  /** Forgets the gaps so far: the next measurement starts now. */
  void resetGap() {
    long now = System.nanoTime();
    lastAck.values().forEach(a -> a.set(now));
    longestGap.set(0);
  }

  Duration longestGap() {
    return Duration.ofNanos(longestGap.get());
  }

  Map<String, Long> errors() {
    Map<String, Long> out = new java.util.TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** The producer's own count of retried records (retriable errors it absorbed). */
  double retries() {
    for (Map.Entry<org.apache.kafka.common.MetricName, ? extends Metric> e :
        producer.metrics().entrySet()) {
      if (e.getKey().name().equals("record-retry-total")
          && e.getKey().group().equals("producer-metrics")) {
        return ((Number) e.getValue().metricValue()).doubleValue();
      }
    }
    return 0;
  }

  /**
   * Stops sending, waits for every outstanding send, reads every partition from the start, checks.
   */
  History.Report stopAndCheck() throws InterruptedException {
    stopSending();
    producer.close(Duration.ofSeconds(60));
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> all = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        all.add(new TopicPartition(topic, i));
      }
      consumer.assign(all);
      consumer.seekToBeginning(all);
      Map<TopicPartition, Long> ends = consumer.endOffsets(all, Duration.ofSeconds(30));
      Map<Integer, List<Read>> reads = new ConcurrentHashMap<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (System.nanoTime() < deadline
          && all.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          reads
              .computeIfAbsent(r.partition(), k -> new ArrayList<>())
              .add(new Read(r.offset(), r.value(), r.timestamp(), 0));
        }
      }
      for (TopicPartition tp : all) {
        history.finalRead(
            new TopicPartitionId(topicKey, tp.partition()),
            reads.getOrDefault(tp.partition(), List.of()),
            ends.get(tp));
      }
    }
    // A send that failed may still have been written: failures are indefinite here.
    return history.check(false);
  }

  @Override
  public void close() {
    running = false;
    producer.close(Duration.ZERO);
  }
}
