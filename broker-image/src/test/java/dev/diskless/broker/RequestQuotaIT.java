package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.KafkaTool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.tools.ConfigCommand;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * request_percentage as Kafka users set and meet it: {@code kafka-configs.sh} sets, describes and
 * deletes it for users and client ids; a producer whose client id has a tiny share of a broker
 * thread is throttled (its own throttle-time metric and the broker's Request metrics say so) and
 * achieves a fraction of the request rate of a client id without a quota, until the quota goes;
 * acks=0 produce, exempt as in Kafka, is counted as exempt time and never throttled. Rates are
 * compared with wide margins, never against absolute times.
 */
class RequestQuotaIT {

  private static final String TOPIC = "timed";

  private Broker broker;
  private String bootstrap;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    // Broker.start with a Prometheus registry: the Request metrics are read from /metrics.
    broker = Broker.start(BrokerConfig.local("request-quota", TestStorage.fresh()));
    bootstrap = "127.0.0.1:" + broker.port();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
    }
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  private String configs(String... args) {
    String[] full = new String[args.length + 2];
    full[0] = "--bootstrap-server";
    full[1] = bootstrap;
    System.arraycopy(args, 0, full, 2, args.length);
    return KafkaTool.run(ConfigCommand::main, full);
  }

  /** What one producer achieved: acknowledged requests per second and its largest throttle. */
  private record Run(String clientId, int acked, double seconds, double throttleMax) {
    double perSecond() {
      return acked / seconds;
    }
  }

  /**
   * A producer with {@code clientId} sending one small record per request, each waited for, for
   * {@code duration} after its first acknowledgement (so that start-up is not measured).
   */
  private Run produceFor(String clientId, Duration duration) throws Exception {
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("client.id", clientId);
    config.put("key.serializer", ByteArraySerializer.class.getName());
    config.put("value.serializer", ByteArraySerializer.class.getName());
    config.put("linger.ms", 0);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
      producer.send(new ProducerRecord<>(TOPIC, new byte[10])).get();
      long start = System.nanoTime();
      long end = start + duration.toNanos();
      int acked = 0;
      while (System.nanoTime() < end) {
        producer.send(new ProducerRecord<>(TOPIC, new byte[10])).get();
        acked++;
      }
      Run run = new Run(clientId, acked, (System.nanoTime() - start) / 1e9, throttleMax(producer));
      System.out.printf(
          "client %s: %d produce requests in %.1f s (%.1f/s), produce-throttle-time-max %.0f ms%n",
          clientId, run.acked(), run.seconds(), run.perSecond(), run.throttleMax());
      return run;
    }
  }

  private static double throttleMax(KafkaProducer<?, ?> producer) {
    return producer.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals("produce-throttle-time-max"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .filter(v -> !Double.isNaN(v) && !Double.isInfinite(v))
        .max()
        .orElse(0);
  }

  private String scrape() throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /**
   * A broker metric from /metrics (KafkaMetricsBridge: {@code kafka.Request.request.time} is {@code
   * kafka_Request_request_time}), of {@code clientId} or untagged when null; -1 if absent.
   */
  private double brokerMetric(String name, String clientId) throws Exception {
    for (String line : scrape().split("\n")) {
      if (line.startsWith("#")
          || !(line.startsWith(name + " ") || line.startsWith(name + "{"))
          || (clientId != null && !line.contains("client_id=\"" + clientId + "\""))) {
        continue;
      }
      return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return -1;
  }

  @Test
  void aClientOverItsRequestPercentageIsThrottledUntilTheQuotaGoes() throws Exception {
    // 0.01 % of one thread: 1 ms of broker time over Kafka's 10-second minimum window.
    configs(
        "--alter",
        "--add-config",
        "request_percentage=0.01",
        "--entity-type",
        "clients",
        "--entity-name",
        "slow");
    assertThat(configs("--describe", "--entity-type", "clients", "--entity-name", "slow"))
        .contains("request_percentage=0.01");
    // Users too, with Kafka's rules: a double, positive.
    configs(
        "--alter",
        "--add-config",
        "request_percentage=250.5",
        "--entity-type",
        "users",
        "--entity-name",
        "alice");
    assertThat(configs("--describe", "--entity-type", "users", "--entity-name", "alice"))
        .contains("request_percentage=250.5");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get())
          .containsEntry(
              new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "slow")),
              Map.of("request_percentage", 0.01))
          .containsEntry(
              new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "alice")),
              Map.of("request_percentage", 250.5));
      ClientQuotaEntity slow = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "slow"));
      try {
        admin
            .alterClientQuotas(
                List.of(
                    new ClientQuotaAlteration(
                        slow, List.of(new ClientQuotaAlteration.Op("request_percentage", -1.0)))))
            .all()
            .get();
        throw new AssertionError("a negative request_percentage was accepted");
      } catch (ExecutionException e) {
        assertThat(e.getCause())
            .isInstanceOf(InvalidRequestException.class)
            .hasMessage("Quota request_percentage must be greater than 0");
      }
    }
    configs(
        "--alter",
        "--delete-config",
        "request_percentage",
        "--entity-type",
        "users",
        "--entity-name",
        "alice");

    // The client without a quota first: it also warms the broker, which only makes the throttled
    // client's requests cheaper.
    Duration window = Duration.ofSeconds(6);
    Run free = produceFor("free", window);
    Run throttled = produceFor("slow", window);
    double throttleTime = brokerMetric("kafka_Request_throttle_time", "slow");
    double requestTime = brokerMetric("kafka_Request_request_time", "slow");
    System.out.printf(
        "broker: Request throttle-time avg %.0f ms, request-time %.4f %% for client slow%n",
        throttleTime, requestTime);

    assertThat(throttled.throttleMax()).isPositive();
    assertThat(free.throttleMax()).isZero();
    assertThat(throttleTime).isPositive();
    assertThat(requestTime).isPositive();
    assertThat(brokerMetric("kafka_Request_throttle_time", "free")).isEqualTo(-1);
    assertThat(free.perSecond()).isGreaterThan(4 * throttled.perSecond());

    configs(
        "--alter",
        "--delete-config",
        "request_percentage",
        "--entity-type",
        "clients",
        "--entity-name",
        "slow");
    assertThat(configs("--describe", "--entity-type", "clients", "--entity-name", "slow"))
        .doesNotContain("request_percentage");
    Run released = produceFor("slow", window);
    assertThat(released.throttleMax()).isZero();
    assertThat(released.perSecond()).isGreaterThan(4 * throttled.perSecond());
    // Without a quota the client's rate is no longer kept.
    assertThat(brokerMetric("kafka_Request_request_time", "slow")).isEqualTo(-1);
  }

  @Test
  void acksZeroProduceIsExemptTimeAndNeverThrottled() throws Exception {
    // 0.1 %: 10 ms over the 10-second window, which the producer's Metadata and ApiVersions stay
    // well within and its hundreds of produce requests would not if they counted.
    configs(
        "--alter",
        "--add-config",
        "request_percentage=0.1",
        "--entity-type",
        "clients",
        "--entity-name",
        "fire-and-forget");
    // One acknowledged record first: acks=0 records sent before the partition has its owner
    // would be lost, not retried.
    Run ready = produceFor("observer", Duration.ZERO);
    long base = ready.acked() + 1;
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("client.id", "fire-and-forget");
    config.put("key.serializer", ByteArraySerializer.class.getName());
    config.put("value.serializer", ByteArraySerializer.class.getName());
    config.put("acks", "0");
    config.put("enable.idempotence", false);
    config.put("linger.ms", 0);
    int records = 500;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
      for (int i = 0; i < records; i++) {
        // With acks=0 this returns once the request is written: one request per record.
        producer.send(new ProducerRecord<>(TOPIC, new byte[1000])).get();
      }
      producer.flush();
    }
    TopicPartition partition = new TopicPartition(TOPIC, 0);
    try (Admin admin =
        Admin.create(Map.of("bootstrap.servers", bootstrap, "client.id", "observer"))) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  admin
                          .listOffsets(Map.of(partition, OffsetSpec.latest()))
                          .partitionResult(partition)
                          .get()
                          .offset()
                      >= base + records);
    }
    double exempt = brokerMetric("kafka_Request_exempt_request_time", null);
    double counted = brokerMetric("kafka_Request_request_time", "fire-and-forget");
    double throttle = brokerMetric("kafka_Request_throttle_time", "fire-and-forget");
    System.out.printf(
        "acks=0: exempt-request-time %.4f %%, fire-and-forget request-time %.4f %%,"
            + " throttle-time %.0f%n",
        exempt, counted, throttle);
    // The produce requests' time is exempt time; the client's own is its few other requests.
    assertThat(exempt).isPositive();
    assertThat(exempt).isGreaterThan(2 * counted);
    assertThat(throttle).isEqualTo(-1);
  }
}
