package dev.diskless.e2e.chaos;

import dev.diskless.e2e.chaos.ChaosHistory.Assign;
import dev.diskless.e2e.chaos.ChaosHistory.Committed;
import dev.diskless.e2e.chaos.ChaosHistory.Fail;
import dev.diskless.e2e.chaos.ChaosHistory.Final;
import dev.diskless.e2e.chaos.ChaosHistory.FinalDone;
import dev.diskless.e2e.chaos.ChaosHistory.Invoke;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedFinal;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedFinalDone;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedInvoke;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedOk;
import dev.diskless.e2e.chaos.ChaosHistory.Ok;
import dev.diskless.e2e.chaos.ChaosHistory.Outcome;
import dev.diskless.e2e.chaos.ChaosHistory.Read;
import dev.diskless.e2e.chaos.ChaosHistory.Stable;
import dev.diskless.e2e.chaos.ChaosHistory.Txn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clients of a chaos run, Kafka's own Java clients with their defaults where a user would keep
 * them: idempotent acks=all producers sending unique values round-robin over the partitions of one
 * topic at a steady rate; transactional producers writing to the same topic, committing most
 * transactions and aborting some; read_committed consumers in one group that commit what they read
 * after every poll; a keyed producer overwriting a few keys of a compacted topic; an observer of
 * the group's committed offsets; and, after the run, a final reader of every partition. Everything
 * lands in a {@link ChaosHistory}.
 */
final class Workload implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Workload.class);

  private final String bootstrap;
  private final String topic;
  private final int partitions;
  private final ChaosHistory history;
  private final long started = System.nanoTime();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger consumerInstances = new AtomicInteger();
  private final AtomicLongArray lastAck;
  private boolean compacted;

  /** Keys of the compacted topic. */
  static final int KEYS = 24;

  /** Records per transaction of a transactional producer. */
  static final int TXN_RECORDS = 4;

  Workload(String bootstrap, String topic, int partitions, ChaosHistory history) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.partitions = partitions;
    this.history = history;
    this.lastAck = new AtomicLongArray(partitions);
    for (int p = 0; p < partitions; p++) {
      lastAck.set(p, Long.MIN_VALUE);
    }
  }

  String topic() {
    return topic;
  }

  int partitions() {
    return partitions;
  }

  ChaosHistory history() {
    return history;
  }

  /** Whether every partition acknowledged a send at or after {@code nanos}. */
  boolean allAckedSince(long nanos) {
    for (int p = 0; p < lastAck.length(); p++) {
      if (lastAck.get(p) < nanos) {
        return false;
      }
    }
    return true;
  }

  /** Monotonic nanoseconds, shared by the history and the nemesis. */
  static long now() {
    return System.nanoTime();
  }

  /**
   * Creates the topic, then starts {@code producers} idempotent producers, {@code transactional}
   * transactional ones and {@code consumers} consumers.
   */
  void start(int producers, int ratePerSecond, int transactional, int consumers) throws Exception {
    try (Admin admin = admin()) {
      create(admin, new NewTopic(topic, partitions, (short) 1));
      // Compaction as often as the brokers' pass comes: nothing but the newest second is exempt.
      try {
        create(
            admin,
            new NewTopic(compactedTopic(), partitions, (short) 1)
                .configs(
                    Map.of(
                        "cleanup.policy", "compact",
                        "segment.ms", "1000",
                        "min.cleanable.dirty.ratio", "0.01",
                        "min.compaction.lag.ms", "0")));
        compacted = true;
      } catch (java.util.concurrent.ExecutionException e) {
        // An older broker jar (the harness proving itself) may not know these configs; the row
        // then shows no keyed sends, and ChaosIT requires some.
        LOG.error("compacted topic refused, no compaction checks: {}", e.getCause().toString());
      }
    }
    for (int i = 0; i < producers; i++) {
      String name = "p" + i;
      int rate = Math.max(1, ratePerSecond / producers);
      threads.add(Thread.ofPlatform().name("chaos-" + name).start(() -> produce(name, rate)));
    }
    if (compacted) {
      threads.add(
          Thread.ofPlatform()
              .name("chaos-k0")
              .start(() -> produceKeyed("k0", Math.max(1, ratePerSecond / 4))));
    }
    for (int i = 0; i < transactional; i++) {
      String name = "t" + i;
      threads.add(Thread.ofPlatform().name("chaos-" + name).start(() -> transact(name)));
    }
    for (int i = 0; i < consumers; i++) {
      String name = "c" + i;
      threads.add(Thread.ofPlatform().name("chaos-" + name).start(() -> consume(name)));
    }
    threads.add(Thread.ofPlatform().name("chaos-committed").start(this::observeCommitted));
  }

  private static void create(Admin admin, NewTopic topic) throws Exception {
    try {
      admin.createTopics(List.of(topic)).all().get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
  }

  /**
   * Deletes the run's topics once it is checked, so that rounds of a long run do not pile up
   * partitions on the brokers. A failure is only logged: the next class uses other topics.
   */
  void deleteTopics() {
    try (Admin admin = admin()) {
      admin.deleteTopics(List.of(topic, compactedTopic())).all().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("topics of {} not deleted: {}", topic, e.toString());
    }
  }

  /** The compacted topic beside the run's topic: few keys, written over and over. */
  String compactedTopic() {
    return topic + "-compacted";
  }

  private Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            "60000"));
  }

  private String group() {
    return topic + "-group";
  }

  /** Sends at a steady rate; after a stall of over a second it starts afresh rather than burst. */
  private static final class Pacer {
    private final long intervalNanos;
    private long next = System.nanoTime();

    Pacer(int perSecond) {
      this.intervalNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
    }

    void await() throws InterruptedException {
      next += intervalNanos;
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        TimeUnit.NANOSECONDS.sleep(sleep);
      } else if (sleep < -TimeUnit.SECONDS.toNanos(1)) {
        next = System.nanoTime();
      }
    }
  }

  /** The producers' settings: idempotent, acks=all, timeouts short enough to see faults. */
  static Properties producerProperties(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    return p;
  }

  private void produce(String name, int ratePerSecond) {
    Properties p = producerProperties(bootstrap);
    Pacer pacer = new Pacer(ratePerSecond);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (long seq = 0; running.get(); seq++) {
        String value = name + "-" + seq;
        int partition = (int) (seq % partitions);
        history.add(new Invoke(now(), value, partition));
        try {
          producer.send(
              new ProducerRecord<>(topic, partition, null, value),
              (md, e) -> {
                if (e == null) {
                  long at = now();
                  history.add(new Ok(at, value, md.partition(), md.offset()));
                  lastAck.accumulateAndGet(md.partition(), at, Math::max);
                } else {
                  history.add(
                      new Fail(
                          now(),
                          value,
                          partition,
                          !(e instanceof RetriableException),
                          e.toString()));
                }
              });
        } catch (Exception e) {
          // Refused before anything was sent (metadata not available within max.block.ms).
          history.add(new Fail(now(), value, partition, true, e.toString()));
        }
        pacer.await();
      }
      producer.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.warn("producer {} stopped: {}", name, e.toString());
    }
  }

  /**
   * Keyed sends to the compacted topic: {@link #KEYS} keys in turn, each always to the same
   * partition, each value unique, so compaction has plenty to remove and a known latest value per
   * key to keep.
   */
  private void produceKeyed(String name, int ratePerSecond) {
    Pacer pacer = new Pacer(ratePerSecond);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(producerProperties(bootstrap))) {
      for (long seq = 0; running.get(); seq++) {
        int k = (int) (seq % KEYS);
        String key = "key" + k;
        String value = name + "-" + seq;
        int partition = k % partitions;
        history.add(new KeyedInvoke(now(), key, value, partition));
        try {
          producer.send(
              new ProducerRecord<>(compactedTopic(), partition, key, value),
              (md, e) -> {
                if (e == null) {
                  history.add(new KeyedOk(now(), value, md.partition(), md.offset()));
                }
              });
        } catch (Exception e) {
          LOG.debug("keyed send of {} refused: {}", value, e.toString());
        }
        pacer.await();
      }
      producer.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.warn("keyed producer {} stopped: {}", name, e.toString());
    }
  }

  /**
   * Transactions of {@link #TXN_RECORDS} records over random partitions, one after another; about
   * one in four is aborted on purpose. A producer whose transaction neither committed nor aborted
   * is closed and replaced, as an application would: the new one's initTransactions fences it and
   * the coordinator finishes or aborts what it left.
   */
  private void transact(String name) {
    java.util.Random random = new java.util.Random(name.hashCode() ^ topic.hashCode());
    long txn = 0;
    int instance = 0;
    while (running.get()) {
      Properties p = producerProperties(bootstrap);
      p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, topic + "-" + name);
      p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "20000");
      String producerName = name + "#" + ++instance;
      KafkaProducer<String, String> producer = new KafkaProducer<>(p);
      try {
        producer.initTransactions();
        while (running.get()) {
          String id = producerName + "-txn" + txn++;
          List<String> values = new ArrayList<>();
          boolean abort = random.nextInt(4) == 0;
          producer.beginTransaction();
          try {
            for (int i = 0; i < TXN_RECORDS; i++) {
              String value = id + "-" + i;
              int partition = random.nextInt(partitions);
              values.add(value);
              history.add(new Invoke(now(), value, partition));
              producer.send(
                  new ProducerRecord<>(topic, partition, null, value),
                  (md, e) -> {
                    if (e == null) {
                      history.add(new Ok(now(), value, md.partition(), md.offset()));
                      lastAck.accumulateAndGet(md.partition(), now(), Math::max);
                    } else {
                      history.add(new Fail(now(), value, partition, false, e.toString()));
                    }
                  });
            }
            if (abort) {
              producer.abortTransaction();
              history.add(new Txn(now(), id, values, Outcome.ABORTED));
            } else {
              producer.commitTransaction();
              history.add(new Txn(now(), id, values, Outcome.COMMITTED));
            }
          } catch (KafkaException e) {
            // A send failed (abortable: abort and go on) or the producer cannot go on.
            if (!abortAfter(producer, id, values, e)) {
              throw e;
            }
          }
          TimeUnit.MILLISECONDS.sleep(100);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        LOG.info("transactional producer {} starts over: {}", producerName, e.toString());
        pause(Duration.ofSeconds(1));
      } finally {
        producer.close(Duration.ofSeconds(5));
      }
    }
  }

  /**
   * Aborts the transaction {@code id} after {@code cause}; returns whether the abort returned. If
   * it did not, the transaction's outcome is for the broker to decide and the history says so.
   */
  private boolean abortAfter(
      KafkaProducer<String, String> producer, String id, List<String> values, Exception cause) {
    try {
      producer.abortTransaction();
      history.add(new Txn(now(), id, values, Outcome.ABORTED));
      LOG.debug("transaction {} aborted after {}", id, cause.toString());
      return true;
    } catch (Exception e) {
      history.add(new Txn(now(), id, values, Outcome.UNKNOWN));
      return false;
    }
  }

  private void pause(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void consume(String name) {
    while (running.get()) {
      // A consumer that failed starts over as a new instance: its reads may start anywhere.
      String instance = name + "#" + consumerInstances.incrementAndGet();
      Properties c = consumerProperties();
      c.put(ConsumerConfig.GROUP_ID_CONFIG, group());
      c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
      c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
      c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
        consumer.subscribe(
            List.of(topic),
            new ConsumerRebalanceListener() {
              @Override
              public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                history.add(new Assign(now(), instance, numbers(revoked)));
              }

              @Override
              public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                history.add(new Assign(now(), instance, numbers(assigned)));
              }

              @Override
              public void onPartitionsLost(Collection<TopicPartition> lost) {
                history.add(new Assign(now(), instance, numbers(lost)));
              }
            });
        while (running.get()) {
          var records = consumer.poll(Duration.ofMillis(200));
          if (records.isEmpty()) {
            continue;
          }
          Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
          for (ConsumerRecord<String, String> r : records) {
            history.add(new Read(now(), instance, r.partition(), r.offset(), r.value()));
            positions.put(
                new TopicPartition(topic, r.partition()), new OffsetAndMetadata(r.offset() + 1));
          }
          try {
            consumer.commitSync(positions);
          } catch (Exception e) {
            // A failed commit is retried by the next one; the group may be rebalancing.
            LOG.debug("consumer {} commit failed: {}", instance, e.toString());
          }
        }
      } catch (Exception e) {
        LOG.info("consumer {} failed, starting over: {}", instance, e.toString());
        history.add(new Assign(now(), instance, allPartitions()));
      }
    }
  }

  private void observeCommitted() {
    try (Admin admin = admin()) {
      while (running.get()) {
        try {
          Map<TopicPartition, OffsetAndMetadata> committed =
              admin
                  .listConsumerGroupOffsets(group())
                  .partitionsToOffsetAndMetadata()
                  .get(10, TimeUnit.SECONDS);
          Map<Integer, Long> offsets = new HashMap<>();
          committed.forEach(
              (tp, om) -> {
                if (om != null) {
                  offsets.put(tp.partition(), om.offset());
                }
              });
          if (!offsets.isEmpty()) {
            history.add(new Committed(now(), offsets));
          }
        } catch (Exception e) {
          LOG.debug("committed offsets not observed: {}", e.toString());
        }
        Thread.sleep(500);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the producers (flushing what they sent) and the consumers. */
  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(Duration.ofSeconds(60));
    }
  }

  /**
   * Reads every partition from its start to its end as of now, into the history; returns whether it
   * got to the end within {@code within}.
   */
  boolean finalRead(Duration within) {
    // A transaction its producer left open holds the last stable offset until the coordinator
    // aborts it (transaction.timeout.ms, then its next check): read once every one has ended.
    boolean stable = awaitStable(Duration.ofSeconds(60));
    history.add(new Stable(now(), stable));
    boolean complete =
        readToEnd(
            topic,
            within,
            r -> history.add(new Final(now(), r.partition(), r.offset(), r.value())));
    history.add(new FinalDone(now(), complete));
    if (!compacted) {
      return complete;
    }
    boolean keyed =
        readToEnd(
            compactedTopic(),
            within,
            r -> history.add(new KeyedFinal(now(), r.partition(), r.offset(), r.key(), r.value())));
    history.add(new KeyedFinalDone(now(), keyed));
    return complete && keyed;
  }

  /** Waits until no partition has an open transaction: read_committed ends equal the high marks. */
  private boolean awaitStable(Duration within) {
    List<TopicPartition> all =
        IntStream.range(0, partitions).mapToObj(p -> new TopicPartition(topic, p)).toList();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    all.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    long deadline = System.nanoTime() + within.toNanos();
    try (Admin admin = admin()) {
      while (System.nanoTime() < deadline) {
        try {
          var stable =
              admin
                  .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                  .all()
                  .get(10, TimeUnit.SECONDS);
          var high = admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
          if (all.stream().allMatch(tp -> stable.get(tp).offset() == high.get(tp).offset())) {
            return true;
          }
        } catch (Exception e) {
          LOG.debug("offsets not listed: {}", e.toString());
        }
        Thread.sleep(500);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.error(
        "{}: a transaction still holds the last stable offset {} s after the run",
        topic,
        within.toSeconds());
    return false;
  }

  private boolean readToEnd(
      String topic,
      Duration within,
      java.util.function.Consumer<ConsumerRecord<String, String>> sink) {
    Properties c = consumerProperties();
    c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> all =
          IntStream.range(0, partitions).mapToObj(p -> new TopicPartition(topic, p)).toList();
      consumer.assign(all);
      consumer.seekToBeginning(all);
      Map<TopicPartition, Long> ends = consumer.endOffsets(all);
      long deadline = System.nanoTime() + within.toNanos();
      while (System.nanoTime() < deadline) {
        if (all.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp))) {
          return true;
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          sink.accept(r);
        }
      }
      return false;
    } catch (KafkaException e) {
      // The cluster does not serve: what was not read shows up as unseen.
      LOG.error("final read of {} failed: {}", topic, e.toString());
      return false;
    }
  }

  /**
   * What every consumer of the run shares: the cluster, string values, and read_committed, so no
   * reader may see an aborted transaction's values.
   */
  private Properties consumerProperties() {
    Properties c = new Properties();
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return c;
  }

  private static Set<Integer> numbers(Collection<TopicPartition> parts) {
    Set<Integer> out = new HashSet<>();
    parts.forEach(tp -> out.add(tp.partition()));
    return out;
  }

  private Set<Integer> allPartitions() {
    Set<Integer> out = new HashSet<>();
    for (int p = 0; p < partitions; p++) {
      out.add(p);
    }
    return out;
  }

  /** Seconds since the workload started, for log lines. */
  double elapsed() {
    return (System.nanoTime() - started) / 1e9;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
