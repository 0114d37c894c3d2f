package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.KafkaTool;
import dev.diskless.broker.testing.Kcat;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.tools.TransactionsCommand;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transactions with Kafka's own Java clients on a two-broker cluster, so coordinators, markers and
 * partitions sit on different brokers: committed records are visible to read_committed consumers
 * and aborted ones never; offsets committed in a transaction count only if it commits; a second
 * producer with the same transactional id fences the first; a transaction left open past its
 * timeout is aborted by the coordinator and holds back no reader; a transaction begun while the
 * coordinator still writes the last one's markers is let in once they are written.
 */
class TransactionsIT {

  private final List<Broker> brokers = new ArrayList<>();
  private final List<StorageMetrics> metrics = new ArrayList<>();
  private String bootstrap;

  @BeforeEach
  void start() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    for (int i = 0; i < 2; i++) {
      metrics.add(StorageMetrics.noExport());
      brokers.add(
          Broker.start(
              BrokerConfig.local("txn-" + i, storage)
                  .withGroupCoordinator(
                      Map.of(
                          "group.initial.rebalance.delay.ms", "0",
                          "offsets.topic.num.partitions", "4",
                          "transaction.state.log.num.partitions", "4",
                          "transaction.abort.timed.out.transaction.cleanup.interval.ms", "500")),
              metrics.get(i)));
    }
    bootstrap = brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin
          .createTopics(
              List.of(new NewTopic("input", 4, (short) 1), new NewTopic("output", 4, (short) 1)))
          .all()
          .get();
    }
  }

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  @Test
  void readCommittedConsumersSeeCommittedRecordsAndNeverAbortedOnes() {
    try (KafkaProducer<String, String> producer = producer("writer", 60_000)) {
      producer.initTransactions();
      transaction(producer, "committed-", 20, true);
      transaction(producer, "aborted-", 20, false);
      transaction(producer, "again-", 20, true);
    }
    List<String> committed = values(readAll("output", "read_committed", 40));
    assertThat(committed).hasSize(40).noneMatch(v -> v.startsWith("aborted-"));
    assertThat(committed.stream().filter(v -> v.startsWith("committed-"))).hasSize(20);
    // read_uncommitted sees the aborted records too (and never the markers).
    assertThat(readAll("output", "read_uncommitted", 60)).hasSize(60);
  }

  @Test
  void aTransactionStartedWhileTheLastOnesMarkersAreWrittenWaitsForThemNotForARetry() {
    try (KafkaProducer<String, String> producer = producer("back-to-back", 60_000)) {
      producer.initTransactions();
      for (int t = 0; t < 10; t++) {
        // The next transaction's first send asks to add its partitions at once, while the
        // coordinator still writes the markers of the one just committed.
        transaction(producer, "t" + t + "-", 5, true);
      }
    }
    assertThat(values(readAll("output", "read_committed", 50))).hasSize(50);
    assertThat(held("answered")).isPositive();
    assertThat(held("still-completing")).isZero();
  }

  /** AddPartitionsToTxn requests the coordinators held for the last transaction's markers. */
  private double held(String outcome) {
    return metrics.stream()
        .mapToDouble(
            m ->
                m
                    .registry()
                    .find("diskless.transactions.add.held")
                    .tag("outcome", outcome)
                    .counters()
                    .stream()
                    .mapToDouble(c -> c.count())
                    .sum())
        .sum();
  }

  @Test
  void batchesPipelinedBehindAPartitionsFirstTransactionalWriteKeepTheirOrder() throws Exception {
    // Tiny batches, five in flight: the first write to each partition is verified against the
    // coordinator while the next ones are already on their way (ProducerPerformance found the
    // reordering this once caused).
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "pipelined");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 64);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      producer.initTransactions();
      for (int txn = 0; txn < 3; txn++) {
        producer.beginTransaction();
        for (int i = 0; i < 500; i++) {
          producer.send(new ProducerRecord<>("output", i % 4, "k", "t" + txn + "-" + i));
        }
        producer.commitTransaction();
      }
    }
    List<ConsumerRecord<String, String>> read = readAll("output", "read_committed", 1500);
    assertThat(read).hasSize(1500);
    for (int partition = 0; partition < 4; partition++) {
      int pp = partition;
      List<String> inPartition =
          read.stream().filter(r -> r.partition() == pp).map(ConsumerRecord::value).toList();
      List<String> expected = new ArrayList<>();
      for (int txn = 0; txn < 3; txn++) {
        for (int i = partition; i < 500; i += 4) {
          expected.add("t" + txn + "-" + i);
        }
      }
      assertThat(inPartition).containsExactlyElementsOf(expected);
    }
  }

  @Test
  void offsetsCommittedInATransactionCountOnlyWhenItCommits() throws Exception {
    try (KafkaProducer<String, String> plain = plainProducer()) {
      for (int i = 0; i < 40; i++) {
        plain.send(new ProducerRecord<>("input", "k" + i, "in-" + i));
      }
    }
    try (KafkaProducer<String, String> producer = producer("copier", 60_000);
        KafkaConsumer<String, String> consumer = consumer("copiers", "read_committed")) {
      producer.initTransactions();
      consumer.subscribe(List.of("input"));
      List<ConsumerRecord<String, String>> batch = poll(consumer, 40);
      Map<TopicPartition, OffsetAndMetadata> offsets = nextOffsets(batch);

      // A copy aborted with its offsets: neither the copies nor the offsets count.
      producer.beginTransaction();
      batch.forEach(
          r -> producer.send(new ProducerRecord<>("output", r.key(), "lost-" + r.value())));
      producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      producer.abortTransaction();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        assertThat(admin.listConsumerGroupOffsets("copiers").partitionsToOffsetAndMetadata().get())
            .isEmpty();
      }

      producer.beginTransaction();
      batch.forEach(
          r -> producer.send(new ProducerRecord<>("output", r.key(), "copy-" + r.value())));
      producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      producer.commitTransaction();
      // EndTxn answers once the commit is decided; the offsets apply when the marker reaches
      // the group's offsets partition, moments later (as in Kafka).
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(
                            admin
                                .listConsumerGroupOffsets("copiers")
                                .partitionsToOffsetAndMetadata()
                                .get())
                        .isEqualTo(offsets));
      }
    }
    assertThat(values(readAll("output", "read_committed", 40)))
        .hasSize(40)
        .allMatch(v -> v.startsWith("copy-in-"));
  }

  @Test
  void aNewProducerWithTheSameTransactionalIdFencesTheOldOneAndAbortsItsTransaction() {
    try (KafkaProducer<String, String> zombie = producer("shared", 60_000);
        KafkaProducer<String, String> successor = producer("shared", 60_000)) {
      zombie.initTransactions();
      zombie.beginTransaction();
      for (int i = 0; i < 10; i++) {
        zombie.send(new ProducerRecord<>("output", "z" + i, "zombie-" + i));
      }
      zombie.flush();

      successor.initTransactions();
      transaction(successor, "successor-", 10, true);

      assertThatThrownBy(zombie::commitTransaction)
          .isInstanceOfAny(ProducerFencedException.class, InvalidProducerEpochException.class);
    }
    assertThat(values(readAll("output", "read_committed", 10)))
        .hasSize(10)
        .allMatch(v -> v.startsWith("successor-"));
  }

  @Test
  void aTransactionPastItsTimeoutIsAbortedAndHoldsBackNoReader() throws Exception {
    try (KafkaProducer<String, String> stuck = producer("stuck", 2_000)) {
      stuck.initTransactions();
      stuck.beginTransaction();
      stuck.send(new ProducerRecord<>("output", "s", "abandoned")).get();
      // The producer goes quiet; the coordinator aborts the transaction after its timeout.
      try (KafkaProducer<String, String> plain = plainProducer()) {
        for (int i = 0; i < 10; i++) {
          plain.send(new ProducerRecord<>("output", "p" + i, "later-" + i)).get();
        }
      }
      assertThat(values(readAll("output", "read_committed", 10)))
          .hasSize(10)
          .allMatch(v -> v.startsWith("later-"));
      assertThatThrownBy(stuck::commitTransaction)
          .isInstanceOfAny(ProducerFencedException.class, InvalidProducerEpochException.class);
    }
  }

  @Test
  void kafkasTransactionsToolListsDescribesAndAbortsAHangingTransaction() throws Exception {
    try (KafkaProducer<String, String> open = producer("tooled", 600_000)) {
      open.initTransactions();
      open.beginTransaction();
      long start = open.send(new ProducerRecord<>("output", 0, "h", "hanging")).get().offset();
      open.flush();

      String listed = tool("list");
      assertThat(listed).contains("tooled").contains("Ongoing");
      String described = tool("describe", "--transactional-id", "tooled");
      assertThat(described).contains("Ongoing").contains("output-0");
      String producers = tool("describe-producers", "--topic", "output", "--partition", "0");
      assertThat(producers).contains(String.valueOf(start));

      // The transaction holds back read_committed readers of partition 0 ...
      try (KafkaProducer<String, String> plain = plainProducer()) {
        plain.send(new ProducerRecord<>("output", 0, "p", "after")).get();
      }
      // (Absence cannot be awaited: read for a few seconds.)
      assertThat(readAll("output", "read_committed", 1, Duration.ofSeconds(3))).isEmpty();
      // ... until an operator aborts it with the tool, as for a hanging transaction.
      tool(
          "abort",
          "--topic",
          "output",
          "--partition",
          "0",
          "--start-offset",
          String.valueOf(start));
      assertThat(values(readAll("output", "read_committed", 1))).containsExactly("after");
    }
  }

  @Test
  void librdkafkaCommitsAndAbortsAndReadsCommittedOnly() throws Exception {
    java.nio.file.Path script =
        java.nio.file.Path.of(
            java.util.Objects.requireNonNull(
                    getClass().getResource("/librdkafka/transactions.py"), "script on classpath")
                .toURI());
    boolean available =
        Kcat.run(List.of(PYTHON, "-c", "import confluent_kafka"), null).exitCode() == 0;
    if (System.getenv("DISKLESS_REQUIRE_KCAT") != null) {
      assertThat(available)
          .as("confluent-kafka for " + PYTHON + " must be installed (python3-confluent-kafka)")
          .isTrue();
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(available, "confluent-kafka is not installed");
    Kcat.Result run = Kcat.run(List.of(PYTHON, script.toString(), bootstrap, "output"), null);
    assertThat(run.exitCode()).as(run.err()).isZero();
    String seen = run.out().trim();
    assertThat(seen).doesNotContain("aborted-");
    for (int i = 0; i < 10; i++) {
      assertThat(seen).contains("\"committed-" + i + "\"");
    }
    for (int i = 0; i < 5; i++) {
      assertThat(seen).contains("\"again-" + i + "\"");
    }
    assertThat(seen.split(",")).hasSize(15);
  }

  /** Debian's interpreter: python3-confluent-kafka installs there (.ci/run). */
  private static final String PYTHON = "/usr/bin/python3";

  /**
   * kafka-transactions.sh in this JVM. It never closes its Admin client (the process exits), so
   * each run leaves one behind; once the brokers are gone, a client left with Kafka's defaults
   * rebootstraps and logs in a tight loop for the rest of the JVM, flooding later tests' output
   * until their logging stalls. A quiet configuration keeps the leftover to a retry a minute.
   */
  private String tool(String... command) {
    String[] args = new String[command.length + 4];
    args[0] = "--bootstrap-server";
    args[1] = bootstrap;
    args[2] = "--command-config";
    args[3] = quietAdminConfig().toString();
    System.arraycopy(command, 0, args, 4, command.length);
    return KafkaTool.run(TransactionsCommand::main, args);
  }

  private static java.nio.file.Path quietAdminConfig() {
    try {
      java.nio.file.Path file = java.nio.file.Files.createTempFile("admin", ".properties");
      file.toFile().deleteOnExit();
      java.nio.file.Files.writeString(
          file,
          "metadata.recovery.strategy=none\n"
              + "reconnect.backoff.ms=60000\n"
              + "reconnect.backoff.max.ms=60000\n");
      return file;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void transaction(
      KafkaProducer<String, String> producer, String prefix, int count, boolean commit) {
    producer.beginTransaction();
    for (int i = 0; i < count; i++) {
      producer.send(new ProducerRecord<>("output", "k" + i, prefix + i));
    }
    if (commit) {
      producer.commitTransaction();
    } else {
      producer.flush();
      producer.abortTransaction();
    }
  }

  private KafkaProducer<String, String> producer(String transactionalId, int timeoutMs) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, timeoutMs);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private KafkaProducer<String, String> plainProducer() {
    return new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
        new StringSerializer(),
        new StringSerializer());
  }

  private KafkaConsumer<String, String> consumer(String group, String isolation) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
  }

  /** Everything a fresh consumer reads from the start, waiting until {@code expected} arrived. */
  private List<ConsumerRecord<String, String>> readAll(
      String topic, String isolation, int expected) {
    return readAll(topic, isolation, expected, Duration.ofSeconds(60));
  }

  private List<ConsumerRecord<String, String>> readAll(
      String topic, String isolation, int expected, Duration atMost) {
    try (KafkaConsumer<String, String> consumer =
        consumer("reader-" + System.nanoTime(), isolation)) {
      consumer.subscribe(List.of(topic));
      List<ConsumerRecord<String, String>> out = poll(consumer, expected, atMost);
      // Nothing more arrives after what was expected.
      consumer.poll(Duration.ofSeconds(1)).forEach(out::add);
      return out;
    }
  }

  private static List<ConsumerRecord<String, String>> poll(
      KafkaConsumer<String, String> consumer, int expected) {
    return poll(consumer, expected, Duration.ofSeconds(60));
  }

  private static List<ConsumerRecord<String, String>> poll(
      KafkaConsumer<String, String> consumer, int expected, Duration atMost) {
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    long deadline = System.nanoTime() + atMost.toNanos();
    while (out.size() < expected && System.nanoTime() < deadline) {
      consumer.poll(Duration.ofMillis(200)).forEach(out::add);
    }
    return out;
  }

  private static List<String> values(List<ConsumerRecord<String, String>> records) {
    return records.stream().map(ConsumerRecord::value).toList();
  }

  private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(
      List<ConsumerRecord<String, String>> records) {
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    for (ConsumerRecord<String, String> r : records) {
      out.merge(
          new TopicPartition(r.topic(), r.partition()),
          new OffsetAndMetadata(r.offset() + 1),
          (a, b) -> a.offset() >= b.offset() ? a : b);
    }
    return out;
  }
}
