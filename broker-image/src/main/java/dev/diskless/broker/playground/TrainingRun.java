package dev.diskless.broker.playground;

import dev.diskless.broker.Broker;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workload that trains the JVM's ahead-of-time cache (JEP 483/514/515) when the broker image is
 * built: a one-broker playground on real components serving what a broker serves in production —
 * topic creation and configs, idempotent produce in each compression codec, 100 MB from a producer
 * with the client's defaults read back from the tail, consumer groups of both protocols with offset
 * commits, the metrics and probe endpoints, and after a restart catch-up reads from object storage
 * — then a clean shutdown, at which the JVM writes the cache. A broker started with that cache
 * finds its classes loaded and linked already, so it is ready in about half the time, which is what
 * a scale-out waits for; and it finds the method profiles of its data path, so its JIT compiles
 * that path sooner: less of its first minutes under load go to the compiler and to code not yet
 * compiled.
 */
public final class TrainingRun {

  private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);
  private static final String TOPIC = "training";
  private static final int RECORDS = 2_000;
  private static final List<String> CODECS = List.of("none", "lz4", "zstd", "snappy", "gzip");
  private static final String BULK_TOPIC = "training-bulk";
  private static final int BULK_RECORDS = 100_000;

  private TrainingRun() {}

  /** Runs the workload in a fresh directory under {@code tmp} and removes it afterwards. */
  public static void run(Path tmp) throws Exception {
    Path dir = Files.createTempDirectory(tmp, "diskless-training");
    long started = System.nanoTime();
    try {
      train(dir);
    } finally {
      delete(dir);
    }
    LOG.info("training run done in {} ms", (System.nanoTime() - started) / 1_000_000);
  }

  private static void train(Path dir) throws Exception {
    try (Playground playground = new Playground(dir, 1)) {
      String bootstrap = playground.bootstrapServers();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic(TOPIC, 4, (short) 1))).all().get();
        admin.describeTopics(List.of(TOPIC)).allTopicNames().get();
        admin
            .describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, TOPIC)))
            .all()
            .get();
        long sent = 0;
        for (String codec : CODECS) {
          sent += produce(bootstrap, codec);
        }
        admin.createTopics(List.of(new NewTopic(BULK_TOPIC, 16, (short) 1))).all().get();
        bulk(bootstrap);
        consume(bootstrap, BULK_TOPIC, "classic", "training-bulk", BULK_RECORDS);
        consume(bootstrap, TOPIC, "classic", "training-classic", sent);
        consume(bootstrap, TOPIC, "consumer", "training-consumer", sent);
        admin.listConsumerGroups().all().get();
        admin.describeCluster().nodes().get();
      }
      for (Broker broker : playground.brokers()) {
        scrape(broker.httpPort());
      }
    }
    try (Playground restarted = new Playground(dir, 1)) {
      // Started again with empty caches, the broker serves a new group from object storage: the
      // catch-up path (index look-ups, ranged GETs, the block cache) that a broker taking over
      // partitions or a lagging consumer exercises.
      consume(
          restarted.bootstrapServers(),
          TOPIC,
          "consumer",
          "training-catch-up",
          (long) RECORDS * CODECS.size());
      consume(
          restarted.bootstrapServers(),
          BULK_TOPIC,
          "classic",
          "training-bulk-catch-up",
          BULK_RECORDS);
    }
  }

  private static long produce(String bootstrap, String codec) throws Exception {
    Properties p = producerConfig(bootstrap);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    byte[] value = new byte[1024];
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < RECORDS; i++) {
        value[i % value.length] = (byte) i;
        producer.send(new ProducerRecord<>(TOPIC, ("k" + i).getBytes(), value.clone()));
      }
      producer.flush();
    }
    return RECORDS;
  }

  /**
   * 1 KiB records from a producer with the client's defaults (idempotent, acks=all, 16 KiB batches)
   * to 16 partitions: about 400 produce requests and 100 WAL flushes, so that the cache holds the
   * profiles of the paths every produced byte takes (request handling, sequencing, flushes,
   * commits, a merge). The few requests of the codec rounds leave those methods unprofiled.
   */
  private static void bulk(String bootstrap) throws Exception {
    byte[] value = new byte[1024];
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig(bootstrap))) {
      for (int i = 0; i < BULK_RECORDS; i++) {
        producer.send(new ProducerRecord<>(BULK_TOPIC, value));
      }
      producer.flush();
    }
  }

  private static Properties producerConfig(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  private static void consume(
      String bootstrap, String topic, String protocol, String group, long expected) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    long seen = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
      consumer.subscribe(Set.of(topic));
      while (seen < expected && System.nanoTime() < deadline) {
        seen += consumer.poll(Duration.ofMillis(200)).count();
      }
      consumer.commitSync();
    }
    if (seen < expected) {
      // The cache is only an optimisation: a short run still trains most of what starts a broker.
      LOG.warn("training consumer ({}) read {} of {} records", group, seen, expected);
    }
  }

  private static void scrape(int port) throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newHttpClient()) {
      for (String path : List.of("/metrics", "/readyz", "/healthz")) {
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.discarding());
      }
    }
  }

  private static void delete(Path dir) throws IOException {
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
