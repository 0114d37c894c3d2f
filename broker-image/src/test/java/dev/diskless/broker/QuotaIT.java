package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.KafkaTool;
import dev.diskless.storage.metrics.StorageMetrics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.tools.ConfigCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Client quotas as Kafka users set and meet them: {@code kafka-configs.sh} sets, describes and
 * removes producer and consumer byte rates by client id; a producer over its quota is slowed to it
 * (measured over whole quota windows, within 10 %); a consumer over its quota is throttled; Kafka's
 * validation messages, and quotas this cluster does not enforce (controller_mutation_rate, IP
 * connection rates) refused.
 */
class QuotaIT {

  private static final int QUOTA = 400_000;

  private Broker broker;
  private String bootstrap;

  @BeforeEach
  void start() throws Exception {
    broker =
        Broker.start(BrokerConfig.local("quota", TestStorage.fresh()), StorageMetrics.noExport());
    bootstrap = "127.0.0.1:" + broker.port();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin.createTopics(List.of(new NewTopic("metered", 4, (short) 1))).all().get();
    }
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  private String configs(String... args) {
    String[] full = new String[args.length + 2];
    full[0] = "--bootstrap-server";
    full[1] = bootstrap;
    System.arraycopy(args, 0, full, 2, args.length);
    return KafkaTool.run(ConfigCommand::main, full);
  }

  @Test
  void aProducerOverItsQuotaIsSlowedToIt() throws Exception {
    configs(
        "--alter",
        "--add-config",
        "producer_byte_rate=" + QUOTA,
        "--entity-type",
        "clients",
        "--entity-name",
        "metered-producer");
    assertThat(
            configs("--describe", "--entity-type", "clients", "--entity-name", "metered-producer"))
        .contains("producer_byte_rate=" + QUOTA + ".0");

    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("client.id", "metered-producer");
    config.put("key.serializer", ByteArraySerializer.class.getName());
    config.put("value.serializer", ByteArraySerializer.class.getName());
    config.put("linger.ms", 5);
    // A small buffer: the rate is what the broker acknowledges, not what waits in the client.
    config.put("buffer.memory", 256 * 1024);
    byte[] value = new byte[1000];
    AtomicLong acked = new AtomicLong();
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config);
    try {
      // The producer tries twice its quota, evenly. Kafka's rate starts over a 10-second window,
      // so the first seconds pass unthrottled, and their samples leave the 11-second quota window
      // by about 16 s; from 20 s the rate is measured over two whole quota windows.
      long start = System.nanoTime();
      long sent = 0;
      long measureFrom = start + Duration.ofSeconds(20).toNanos();
      long measureTo = measureFrom + Duration.ofSeconds(22).toNanos();
      long bytesAtMeasure = -1;
      while (true) {
        long now = System.nanoTime();
        if (bytesAtMeasure < 0 && now >= measureFrom) {
          // What the broker appended, batch headers included: what its quota counts.
          bytesAtMeasure = appendedBytes();
          now = System.nanoTime();
          measureFrom = now;
          measureTo = measureFrom + Duration.ofSeconds(22).toNanos();
        }
        if (now >= measureTo) {
          double rate =
              (appendedBytes() - bytesAtMeasure) / ((System.nanoTime() - measureFrom) / 1e9);
          System.out.printf("produce quota %d B/s, measured %.0f B/s%n", QUOTA, rate);
          assertThat(throttled(producer)).isPositive();
          assertThat(acked.get()).isPositive();
          assertThat(rate).isBetween(QUOTA * 0.9, QUOTA * 1.1);
          break;
        }
        if (sent > 2.0 * QUOTA * (now - start) / 1e9) {
          Thread.sleep(1);
          continue;
        }
        sent += value.length;
        producer.send(
            new ProducerRecord<>("metered", value),
            (m, e) -> {
              if (e == null) {
                acked.incrementAndGet();
              }
            });
      }
    } finally {
      producer.close(Duration.ZERO);
    }
  }

  /** The bytes of the topic's log, as DescribeLogDirs reports them. */
  private long appendedBytes() throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      int node = admin.describeCluster().nodes().get().iterator().next().id();
      return admin
          .describeLogDirs(List.of(node))
          .allDescriptions()
          .get()
          .get(node)
          .values()
          .stream()
          .flatMap(d -> d.replicaInfos().entrySet().stream())
          .filter(e -> e.getKey().topic().equals("metered"))
          .mapToLong(e -> e.getValue().size())
          .sum();
    }
  }

  private static double throttled(KafkaProducer<?, ?> producer) {
    return producer.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals("produce-throttle-time-max"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .filter(v -> !Double.isNaN(v))
        .max()
        .orElse(0);
  }

  @Test
  void aConsumerOverItsQuotaIsThrottledAndQuotasAreValidatedAsKafkaDoes() throws Exception {
    Map<String, Object> producerConfig = new HashMap<>();
    producerConfig.put("bootstrap.servers", bootstrap);
    producerConfig.put("key.serializer", ByteArraySerializer.class.getName());
    producerConfig.put("value.serializer", ByteArraySerializer.class.getName());
    int records = 6_000;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig)) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>("metered", new byte[1000]));
      }
    }
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      ClientQuotaEntity reader =
          new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "metered-consumer"));
      admin
          .alterClientQuotas(
              List.of(
                  new ClientQuotaAlteration(
                      reader,
                      List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", 300_000.0)))))
          .all()
          .get();
      assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get())
          .containsEntry(reader, Map.of("consumer_byte_rate", 300_000.0));
      assertThat(refusal(admin, reader, new ClientQuotaAlteration.Op("consumer_byte_rate", -1.0)))
          .hasMessage("Quota consumer_byte_rate must be greater than 0");
      assertThat(refusal(admin, reader, new ClientQuotaAlteration.Op("producer_byte_rate", 1.5)))
          .hasMessage("producer_byte_rate cannot be a fractional value.");
      assertThat(refusal(admin, reader, new ClientQuotaAlteration.Op("no_such_quota", 1.0)))
          .hasMessage("Invalid configuration key no_such_quota");
      // request_percentage is enforced (RequestQuotaIT); these are not, so they are refused
      // rather than stored without effect.
      assertThat(
              refusal(
                  admin, reader, new ClientQuotaAlteration.Op("controller_mutation_rate", 50.0)))
          .hasMessageContaining("not enforced by this cluster");
      assertThat(
              refusal(
                  admin,
                  new ClientQuotaEntity(Map.of(ClientQuotaEntity.IP, "127.0.0.1")),
                  new ClientQuotaAlteration.Op("connection_creation_rate", 10.0)))
          .hasMessageContaining("not enforced by this cluster");
    }

    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("client.id", "metered-consumer");
    config.put("group.id", "metered-readers");
    config.put("auto.offset.reset", "earliest");
    config.put("key.deserializer", ByteArrayDeserializer.class.getName());
    config.put("value.deserializer", ByteArrayDeserializer.class.getName());
    int read = 0;
    double throttle = 0;
    long start = System.nanoTime();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of("metered"));
      while (read < records && System.nanoTime() - start < Duration.ofSeconds(60).toNanos()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          read++;
        }
      }
      throttle =
          consumer.metrics().entrySet().stream()
              .filter(e -> e.getKey().name().equals("fetch-throttle-time-max"))
              .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
              .filter(v -> !Double.isNaN(v))
              .max()
              .orElse(0);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(read).isEqualTo(records);
    assertThat(throttle).isPositive();
    // 6 MB at 300 kB/s, of which Kafka's first window lets about 3 MB through at once.
    assertThat(seconds).isGreaterThan(8);

    configs(
        "--alter",
        "--delete-config",
        "consumer_byte_rate",
        "--entity-type",
        "clients",
        "--entity-name",
        "metered-consumer");
    assertThat(
            configs("--describe", "--entity-type", "clients", "--entity-name", "metered-consumer"))
        .doesNotContain("consumer_byte_rate");
  }

  private static Throwable refusal(
      Admin admin, ClientQuotaEntity entity, ClientQuotaAlteration.Op op) throws Exception {
    try {
      admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity, List.of(op)))).all().get();
      throw new AssertionError(op + " was accepted");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(InvalidRequestException.class);
      return e.getCause();
    }
  }
}
