package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.BrokerProcess;
import dev.diskless.storage.CrashPoints;
import dev.diskless.storage.StorageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.tools.TransactionalMessageCopier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Transactions stay whole while brokers die. Two brokers share the cluster: a survivor in this JVM
 * and a victim that is a separate process, killed with SIGKILL (or halted at a crash point, which
 * is the same to everyone else) while it owns input, output and coordinator partitions:
 *
 * <ul>
 *   <li>the coordinator dies between PrepareCommit and its markers, or between its markers and
 *       CompleteCommit: its successor finishes the commit, the producer's commit returns, every
 *       record is visible once and no partition's last stable offset stays behind;
 *   <li>Kafka's own {@code TransactionalMessageCopier} (kafka-tools, run as its own processes, as
 *       Kafka's system tests run it, with random aborts) copies two partitions while the victim is
 *       killed twice and restarted: the output read_committed is the input, in order, once;
 *   <li>a Kafka Streams {@code exactly_once_v2} count runs through a broker kill and a restart of
 *       the application: every key's committed counts are exactly 1, 2, …, n.
 * </ul>
 */
class TransactionFaultIT {

  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final String TRANSACTION_STATE = "__transaction_state";
  private static final int COORDINATOR_PARTITIONS = 4;
  private static final Map<String, String> SETTINGS =
      Map.of(
          "group.initial.rebalance.delay.ms", "0",
          "offsets.topic.num.partitions", "4",
          "transaction.state.log.num.partitions", Integer.toString(COORDINATOR_PARTITIONS),
          "transaction.abort.timed.out.transaction.cleanup.interval.ms", "500");

  private StorageConfig storage;
  private Broker survivor;
  private BrokerProcess victim;
  private final List<Process> tools = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Process p : tools) {
      p.destroyForcibly().waitFor();
    }
    if (victim != null) {
      victim.close();
    }
    if (survivor != null) {
      survivor.close();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {CrashPoints.TRANSACTION_AFTER_PREPARE, CrashPoints.TRANSACTION_BEFORE_COMPLETE})
  void aCoordinatorKilledInTheMiddleOfACommitLeavesTheTransactionWhole(String crashPoint)
      throws Exception {
    startCluster(Map.of(CrashPoints.ENV, crashPoint));
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic("out", 4, (short) 1))).all().get();
      int victimNode = victimNode(admin);
      // The transaction spans partitions of both brokers, and its coordinator is the victim.
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  leaders(admin, "out").containsAll(Set.of(victimNode, survivor.nodeId()))
                      && leaders(admin, TRANSACTION_STATE).contains(victimNode));
      String id = idCoordinatedBy(admin, victimNode, "mid-commit-");
      Set<String> sent = new HashSet<>();
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(transactional(id))) {
        producer.initTransactions();
        producer.beginTransaction();
        for (int i = 0; i < 100; i++) {
          producer.send(new ProducerRecord<>("out", i % 4, "k" + i, "v" + i));
          sent.add("v" + i);
        }
        // The coordinator halts in the middle; the client retries on its successor.
        producer.commitTransaction();
        assertThat(victim.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(victim.process().exitValue()).isEqualTo(137);
        assertThat(Files.readString(victim.log()))
            .contains("crash point " + crashPoint + " reached");

        // The producer goes on with its next transaction on the new coordinator.
        producer.beginTransaction();
        for (int i = 0; i < 4; i++) {
          producer.send(new ProducerRecord<>("out", i, "after" + i, "after" + i));
          sent.add("after" + i);
        }
        producer.commitTransaction();
      }
      assertThat(readCommitted("out", 4).values().stream().flatMap(List::stream).toList())
          .containsExactlyInAnyOrderElementsOf(sent);
      assertNothingHangs("out", 4);
      TransactionDescription d = admin.describeTransactions(List.of(id)).description(id).get();
      assertThat(d.state()).isEqualTo(TransactionState.COMPLETE_COMMIT);
      assertThat(d.coordinatorId()).isEqualTo(survivor.nodeId());
    }
  }

  @Test
  void kafkasTransactionalMessageCopierCopiesExactlyOnceWhileABrokerIsKilledTwice()
      throws Exception {
    startCluster(Map.of());
    int inputPartitions = 2;
    int perPartition = 6_000;
    try (Admin admin = admin()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("input", inputPartitions, (short) 1),
                  new NewTopic("output", inputPartitions, (short) 1)))
          .all()
          .get();
      awaitVictimServes(admin, "output");
      Map<Integer, List<String>> input = new HashMap<>();
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(idempotent())) {
        for (int p = 0; p < inputPartitions; p++) {
          List<String> values = new ArrayList<>();
          for (int i = 0; i < perPartition; i++) {
            String value = p + "-" + i;
            producer.send(new ProducerRecord<>("input", p, "key" + i, value));
            values.add(value);
          }
          input.put(p, values);
        }
        producer.flush();
      }

      for (int p = 0; p < inputPartitions; p++) {
        tools.add(
            java(
                "copier-" + p,
                TransactionalMessageCopier.class.getName(),
                "--broker-list",
                bootstrap(),
                "--input-topic",
                "input",
                "--input-partition",
                Integer.toString(p),
                "--output-topic",
                "output",
                "--transactional-id",
                "copier-" + p,
                "--consumer-group",
                "copier-group-" + p,
                "--max-messages",
                Integer.toString(perPartition),
                "--transaction-size",
                "50",
                "--transaction-timeout",
                "10000",
                "--enable-random-aborts"));
      }

      // Two kills, each once both copiers are a further third on, while the victim serves
      // partitions of the output and coordinators again.
      for (int kill = 1; kill <= 2; kill++) {
        long target = (long) perPartition * kill / 3;
        await()
            .atMost(Duration.ofSeconds(120))
            .until(() -> IntStream.range(0, inputPartitions).allMatch(p -> copied(p) >= target));
        assertThat(tools).as("copiers running at kill %d", kill).allMatch(Process::isAlive);
        long killed = System.nanoTime();
        victim.kill();
        awaitFailover(admin, List.of("input", "output", TRANSACTION_STATE));
        System.out.printf(
            "copier kill %d at %d/%d records: survivor serves everything after %d ms%n",
            kill,
            copied(0),
            perPartition,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
        victim = startVictim(Map.of());
        awaitVictimServes(admin, "output");
      }

      for (int p = 0; p < inputPartitions; p++) {
        Process copier = tools.get(p);
        Path log = Path.of("target", "tools", "copier-" + p + ".log");
        assertThat(copier.waitFor(180, TimeUnit.SECONDS))
            .as("copier %d finished; its log: %s", p, log)
            .isTrue();
        assertThat(copier.exitValue()).as("copier %d exit; its log: %s", p, log).isZero();
      }
      // Each output partition is its input partition, in order, each record once.
      Map<Integer, List<String>> output = readCommitted("output", inputPartitions);
      for (int p = 0; p < inputPartitions; p++) {
        assertThat(output.get(p)).as("output partition %d", p).isEqualTo(input.get(p));
      }
      assertNothingHangs("output", inputPartitions);
    }
  }

  @Test
  void kafkaStreamsExactlyOnceV2CountsExactlyThroughABrokerKillAndARestart(@TempDir Path dir)
      throws Exception {
    startCluster(Map.of());
    try (Admin admin = admin()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("words", 2, (short) 1), new NewTopic("word-counts", 2, (short) 1)))
          .all()
          .get();
      awaitVictimServes(admin, "words");
      Map<String, Long> expected = new HashMap<>();
      Random random = new Random(11);
      KafkaStreams streams = streams(dir.resolve("state-1"));
      streams.start();
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(idempotent())) {
        for (int round = 0; round < 10; round++) {
          for (int i = 0; i < 150; i++) {
            String word = "w" + random.nextInt(30);
            producer.send(new ProducerRecord<>("words", "line" + i, word));
            expected.merge(word, 1L, Long::sum);
          }
          producer.flush();
          if (round == 3) {
            // While Streams runs and has committed output, processing this round.
            KafkaStreams running = streams;
            await()
                .atMost(Duration.ofSeconds(60))
                .until(
                    () -> running.state() == KafkaStreams.State.RUNNING && !readCounts().isEmpty());
            long killed = System.nanoTime();
            victim.kill();
            awaitFailover(admin, List.of("words", "word-counts", TRANSACTION_STATE));
            System.out.printf(
                "streams kill in round %d (application %s): survivor serves everything after %d"
                    + " ms%n",
                round, streams.state(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
            victim = startVictim(Map.of());
          }
          if (round == 6) {
            // A restart with no local state: the store comes back from its changelog.
            streams.close(Duration.ofSeconds(60));
            streams = streams(dir.resolve("state-2"));
            streams.start();
          }
        }
      }
      try {
        Map<String, Long> latest = new HashMap<>();
        await()
            .atMost(Duration.ofSeconds(120))
            .until(
                () -> {
                  readCounts().forEach((k, v) -> latest.put(k, v.getLast()));
                  return latest.equals(expected);
                });
      } finally {
        streams.close(Duration.ofSeconds(60));
      }
      // Exactly once: each key's committed counts are 1, 2, ..., n, none repeated or skipped.
      Map<String, List<Long>> counts = readCounts();
      expected.forEach(
          (word, n) ->
              assertThat(counts.get(word)).as("committed counts of %s", word).isEqualTo(oneTo(n)));
      assertNothingHangs("word-counts", 2);
    }
  }

  // ---- the cluster ----

  private void startCluster(Map<String, String> victimEnv) throws Exception {
    storage = TestStorage.fresh();
    survivor =
        Broker.start(
            BrokerConfig.local("txf-survivor", storage)
                .withLease(LEASE)
                .withGroupCoordinator(SETTINGS));
    victim = startVictim(victimEnv);
  }

  private BrokerProcess startVictim(Map<String, String> env) throws Exception {
    Map<String, String> settings = new HashMap<>(SETTINGS);
    settings.put("lease.ms", Long.toString(LEASE.toMillis()));
    BrokerProcess p =
        BrokerProcess.start("txf-victim", storage.objectStore(), storage.metadata(), settings, env);
    await().atMost(Duration.ofSeconds(60)).until(() -> p.probe("/readyz") == 200);
    return p;
  }

  /** The survivor only: the victim's address changes with each restart. */
  private String bootstrap() {
    return "127.0.0.1:" + survivor.port();
  }

  private Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
  }

  /** The victim's node id, once the cluster lists it (a restarted victim joins a moment later). */
  private int victimNode(Admin admin) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                admin.describeCluster().nodes().get().stream()
                    .filter(n -> n.port() == victim.port())
                    .findFirst(),
            Optional::isPresent)
        .orElseThrow()
        .id();
  }

  /** The nodes leading {@code topic}'s partitions (-1 for a partition without a leader). */
  private static List<Integer> leaders(Admin admin, String topic) throws Exception {
    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    return d.partitions().stream()
        .map(TopicPartitionInfo::leader)
        .map(n -> n == null ? -1 : n.id())
        .toList();
  }

  /** Waits until the victim leads partitions of {@code topic} and of the coordinators. */
  private void awaitVictimServes(Admin admin, String topic) throws Exception {
    int node = victimNode(admin);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                leaders(admin, topic).contains(node)
                    && leaders(admin, TRANSACTION_STATE).contains(node));
  }

  /** Waits until the survivor leads every partition of {@code topics}. */
  private void awaitFailover(Admin admin, List<String> topics) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              for (String t : topics) {
                if (leaders(admin, t).stream().anyMatch(n -> n != survivor.nodeId())) {
                  return false;
                }
              }
              return true;
            });
  }

  /** A transactional id whose coordinator partition {@code node} leads (Kafka's hash). */
  private static String idCoordinatedBy(Admin admin, int node, String prefix) throws Exception {
    List<Integer> coordinators = leaders(admin, TRANSACTION_STATE);
    return IntStream.range(0, 10_000)
        .mapToObj(i -> prefix + i)
        .filter(id -> coordinators.get(Utils.abs(id.hashCode()) % COORDINATOR_PARTITIONS) == node)
        .findFirst()
        .orElseThrow();
  }

  /** A Java process on this test's classpath, its output in {@code target/tools/NAME.log}. */
  private static Process java(String name, String mainClass, String... args) throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "tools"));
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.add("-Xmx256m");
    argv.add("-cp");
    argv.add(System.getProperty("java.class.path"));
    argv.add(mainClass);
    argv.addAll(List.of(args));
    return new ProcessBuilder(argv)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile())
        .start();
  }

  // ---- clients ----

  private Properties idempotent() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    return p;
  }

  private Properties transactional(String id) {
    Properties p = idempotent();
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "90000");
    return p;
  }

  private Properties readCommittedConsumer() {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return c;
  }

  private static List<TopicPartition> partitions(String topic, int count) {
    return IntStream.range(0, count).mapToObj(p -> new TopicPartition(topic, p)).toList();
  }

  /** Every committed value of {@code topic} from its start, per partition in offset order. */
  private Map<Integer, List<String>> readCommitted(String topic, int count) {
    Map<Integer, List<String>> values = new LinkedHashMap<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(readCommittedConsumer())) {
      List<TopicPartition> parts = partitions(topic, count);
      parts.forEach(tp -> values.put(tp.partition(), new ArrayList<>()));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                  values.get(r.partition()).add(r.value());
                }
                return parts.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp));
              });
    }
    return values;
  }

  private static final Pattern PROCESSED = Pattern.compile("\"totalProcessed\":(\\d+)");

  /** How many records copier {@code p} has committed, from the progress lines it prints. */
  private static long copied(int p) {
    try {
      Matcher m =
          PROCESSED.matcher(Files.readString(Path.of("target", "tools", "copier-" + p + ".log")));
      long last = 0;
      while (m.find()) {
        last = Long.parseLong(m.group(1));
      }
      return last;
    } catch (IOException e) {
      return 0;
    }
  }

  /** No transaction is left open: every partition's last stable offset is its high watermark. */
  private void assertNothingHangs(String topic, int count) {
    Properties c = readCommittedConsumer();
    Properties u = readCommittedConsumer();
    u.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    List<TopicPartition> parts = partitions(topic, count);
    try (KafkaConsumer<String, String> committed = new KafkaConsumer<>(c);
        KafkaConsumer<String, String> uncommitted = new KafkaConsumer<>(u)) {
      assertThat(committed.endOffsets(parts)).isEqualTo(uncommitted.endOffsets(parts));
    }
  }

  // ---- Kafka Streams ----

  private KafkaStreams streams(Path stateDir) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream("words", Consumed.with(Serdes.String(), Serdes.String()))
        .groupBy((key, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
        .count(Materialized.as("counts"))
        .toStream()
        .to("word-counts", Produced.with(Serdes.String(), Serdes.Long()));
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "eos-count");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    // Every input record makes one output record, so the committed counts of a key are 1..n.
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // The restarted instance joins without waiting 45 s for the old member's session to expire.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), "6000");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), "1000");
    return new KafkaStreams(builder.build(), p);
  }

  /** Every committed count on the output, per word in order. */
  private Map<String, List<Long>> readCounts() {
    Properties c = readCommittedConsumer();
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class.getName());
    Map<String, List<Long>> counts = new HashMap<>();
    try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> parts = partitions("word-counts", 2);
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))
          && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(200))) {
          counts.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
        }
      }
    }
    return counts;
  }

  /** 1, 2, ..., n. */
  private static List<Long> oneTo(long n) {
    return LongStream.rangeClosed(1, n).boxed().toList();
  }
}
