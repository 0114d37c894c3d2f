package dev.diskless.broker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.Broker;
import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.compaction.CompactionConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.S3ObjectStore;
import dev.diskless.storage.testing.PostgresFixture;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.wal.WalConfig;
import dev.diskless.storage.wal.volume.VolumeWalConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Every metric the Helm chart's Grafana dashboards and PrometheusRules query exists on a live
 * broker's /metrics: a broker is started, written to, read from, compacted, and a consumer group
 * commits so that lag is measured; then every PromQL expression of the chart's broker dashboards
 * and rules is searched for metric names, and each must be the name of a sample in the scrape (so
 * {@code x_bucket} needs a published histogram, {@code x_total} a counter, and so on).
 *
 * <p>The operator's own metrics ({@code diskless_operator_*}, {@code operator_sdk_*}) and the
 * operator dashboard are checked against a live operator by {@code OperatorDashboardMetricsIT} in
 * the operator module; the chart's PromQL is parsed by Prometheus's parser in {@code
 * PromqlParsesTest} there, which also fails on a metric name without one of the prefixes below.
 */
class DashboardMetricsIT {

  private static final Path CHART = Path.of("..", "helm", "diskless-operator");

  /** The dashboard of the operator's own /q/metrics, checked in the operator module. */
  private static final String OPERATOR_DASHBOARD = "diskless-operator.json";

  /** Prefixes of the names the broker exports (its own, Micrometer's JVM, process, system). */
  private static final Pattern BROKER_NAME =
      Pattern.compile("\\b((?:diskless|jvm|process|system)_[a-z0-9_]+)\\b");

  /** Names the operator exports, not the broker: checked against the operator. */
  private static final Pattern OPERATOR_NAME =
      Pattern.compile("^(diskless_operator_|operator_sdk_)");

  /**
   * Series that Prometheus makes itself for every target, not any exporter: {@code up} (1 when the
   * scrape succeeded), for brokers up. The chart may use it without a broker exporting it.
   */
  private static final Set<String> PROMETHEUS_SERIES = Set.of("up");

  private static final Pattern UP = Pattern.compile("\\bup\\s*[{(]");

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyBrokerMetricTheChartQueriesIsOnALiveBrokersScrape() throws Exception {
    Map<String, Set<String>> used = brokerNamesUsedByTheChart();
    assertThat(used)
        .as("metric names found in the chart's dashboards and rules")
        .hasSizeGreaterThan(20);

    // A WAL commit deadline of 1 s allows an orphan grace of 2 s (twice the deadline).
    StorageConfig storage = storage(Duration.ofSeconds(1));
    // Compaction as soon as a partition has 1 KiB of WAL entries, orphans swept after 2 s; the
    // background pass is far off, runOnce() below runs it.
    CompactionConfig c = storage.compaction();
    storage =
        storage.withCompaction(
            new CompactionConfig(
                Duration.ofHours(1),
                1024,
                c.segmentBytes(),
                c.chunkBytes(),
                Duration.ofSeconds(2),
                c.keyMapBytes()));
    // An object with no metadata row under the WAL prefix (as a PUT whose commit failed leaves):
    // the orphan sweep deletes it, which is what diskless_objects_deleted_total counts.
    try (S3ObjectStore objects =
        new S3ObjectStore(storage.objectStore(), StorageMetrics.noExport())) {
      objects
          .put(
              storage.objectStore().keyPrefix() + "wal/stray-" + UUID.randomUUID(),
              ByteBuffer.wrap(new byte[] {1, 2, 3}))
          .join();
    }
    Path volume = Files.createTempDirectory("dashboard-metrics-volume-wal");
    try (Broker broker =
            Broker.start(
                BrokerConfig.local("dashboards", storage)
                    .withConsumerLagInterval(Duration.ofMillis(300)));
        // The volume WAL's meter exists only on a broker with a volume WAL.
        Broker volumeBroker =
            Broker.start(
                BrokerConfig.local(
                    "dashboards-volume",
                    storage(Duration.ofMinutes(2)).withVolumeWal(VolumeWalConfig.at(volume))))) {
      String bootstrap = "127.0.0.1:" + broker.port();
      exercise(broker, bootstrap);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                broker.engine().maintenance().runOnce().join();
                // Micrometer's GC pause timer appears with the first collection after it was
                // bound, which a live broker has within seconds but a short test may not.
                System.gc();
                assertThat(scrape(broker))
                    .contains("jvm_gc_pause_seconds_sum")
                    .contains("diskless_consumer_lag_records{group=\"dashboards\"")
                    .contains("diskless_consumer_group_lag_records{group=\"dashboards\"}")
                    .contains("diskless_objects_deleted_total{reason=\"orphan\"}");
              });
      String body = scrape(broker);
      String volumeBody = scrape(volumeBroker);
      Path out = Path.of("target", "dashboard-metrics");
      Files.createDirectories(out);
      Files.writeString(out.resolve("scrape.txt"), body);
      Files.writeString(out.resolve("scrape-volume-wal.txt"), volumeBody);
      Set<String> exported = new TreeSet<>(sampleNames(body));
      exported.addAll(sampleNames(volumeBody));

      Map<String, Set<String>> missing = new TreeMap<>();
      used.forEach(
          (name, where) -> {
            if (!exported.contains(name)) {
              missing.put(name, where);
            }
          });
      assertThat(missing)
          .as(
              "metrics the chart queries that the broker does not export (scrape in"
                  + " target/dashboard-metrics/scrape.txt)")
          .isEmpty();
      System.out.printf(
          "dashboard metrics: %d broker metric names used by the chart, all among the %d sample"
              + " names of a live scrape%n",
          used.size(), exported.size());
    } finally {
      try (Stream<Path> files = Files.walk(volume)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * A fresh S3Proxy bucket and PostgreSQL database, and a 20 ms WAL age bound (as TestStorage),
   * with this WAL commit deadline.
   */
  private static StorageConfig storage(Duration commitDeadline) {
    return StorageConfig.defaults(
            S3ProxyFixture.get().newBucket(), PostgresFixture.get().newDatabase())
        .withWal(new WalConfig(8 << 20, Duration.ofMillis(20), 4, 64L << 20, commitDeadline));
  }

  /**
   * Writes, reads, commits (leaving lag), compacts: what makes the lazily created meters appear.
   */
  private static void exercise(Broker broker, String bootstrap) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("orders", 3, (short) 1),
                  new NewTopic("table", 1, (short) 1)
                      .configs(
                          Map.of(
                              "cleanup.policy", "compact",
                              "segment.ms", "500",
                              "min.cleanable.dirty.ratio", "0.01"))))
          .all()
          .get();
    }
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
            new StringSerializer(),
            new StringSerializer())) {
      for (int i = 0; i < 300; i++) {
        producer.send(new ProducerRecord<>("orders", "k" + (i % 7), "v" + i));
        producer.send(new ProducerRecord<>("table", "k" + (i % 5), "v" + i));
      }
      producer.flush();
      // The compacted topic's records age past segment.ms; one more write is its active part.
      Thread.sleep(1_000);
      producer.send(new ProducerRecord<>("table", "tail", "tail")).get();
    }
    // WAL objects merged into segments, the compacted topic cleaned, unreferenced objects swept.
    broker.engine().maintenance().runOnce().join();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG,
                "dashboards",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                "false"),
            new StringDeserializer(),
            new StringDeserializer())) {
      consumer.subscribe(List.of("orders", "table"));
      int read = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read < 300 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.topic().equals("orders")) {
            read++;
          }
        }
      }
      assertThat(read).isEqualTo(300);
      consumer.commitSync();
    }
    // Lag: records the group has not read.
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
            new StringSerializer(),
            new StringSerializer())) {
      for (int i = 0; i < 30; i++) {
        producer.send(new ProducerRecord<>("orders", "k" + i, "late" + i));
      }
      producer.flush();
    }
  }

  private String scrape(Broker broker) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /**
   * The name of every sample in a Prometheus text scrape ({@code x_bucket}, {@code x_total}...).
   */
  static Set<String> sampleNames(String scrape) {
    return scrape
        .lines()
        .filter(l -> !l.isBlank() && !l.startsWith("#"))
        .map(l -> l.split("[{ ]", 2)[0])
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /**
   * Broker metric names in the chart's dashboards (all but the operator's) and rules, each with the
   * files that use it. Only the PromQL of a dashboard (its "expr" and variable queries) is
   * searched; the rules template is searched whole (its PromQL, and any name its annotations give).
   */
  static Map<String, Set<String>> brokerNamesUsedByTheChart() throws IOException {
    Map<String, Set<String>> used = new TreeMap<>();
    List<Path> dashboards;
    try (Stream<Path> files = Files.list(CHART.resolve("dashboards"))) {
      dashboards = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(dashboards).as("dashboards in " + CHART.resolve("dashboards")).hasSizeGreaterThan(1);
    for (Path d : dashboards) {
      if (d.getFileName().toString().equals(OPERATOR_DASHBOARD)) {
        continue;
      }
      collect(promqlOfDashboard(Files.readString(d)), d.getFileName().toString(), used);
    }
    Path rules = CHART.resolve("templates").resolve("prometheusrule.yaml");
    collect(Files.readString(rules), rules.getFileName().toString(), used);
    return used;
  }

  /** The "expr" and "query" strings of a dashboard's JSON, unescaped, one per line. */
  static String promqlOfDashboard(String json) {
    Matcher m =
        Pattern.compile("\"(?:expr|query)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      out.append(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\")).append('\n');
    }
    assertThat(out).as("PromQL in a dashboard").isNotEmpty();
    return out.toString();
  }

  private static void collect(String text, String file, Map<String, Set<String>> used) {
    Matcher m = BROKER_NAME.matcher(text);
    while (m.find()) {
      String name = m.group(1);
      if (OPERATOR_NAME.matcher(name).find()) {
        continue;
      }
      used.computeIfAbsent(name, k -> new TreeSet<>()).add(file);
    }
    if (UP.matcher(text).find()) {
      // Made by Prometheus for each scraped target; nothing for a broker to export.
      assertThat(PROMETHEUS_SERIES).contains("up");
    }
  }

  @Test
  void theNameSearchSeesHistogramSuffixesAndIgnoresLabelsAndFunctions() {
    Map<String, Set<String>> used = new TreeMap<>();
    collect(
        promqlOfDashboard(
            "{\"expr\": \"histogram_quantile(0.99, sum by (le, api) (rate("
                + "diskless_requests_seconds_bucket{api=~\\\"$api\\\"}[$__rate_interval])))"
                + " / on(pod) diskless_operator_autoscaling_desired_brokers\"}"),
        "x.json",
        used);
    assertThat(used).containsOnlyKeys("diskless_requests_seconds_bucket");
    assertThat(
            sampleNames(
                "# TYPE diskless_requests_seconds histogram\n"
                    + "diskless_requests_seconds_bucket{api=\"Produce\",le=\"0.001\"} 1\n"
                    + "diskless_requests_seconds_count{api=\"Produce\"} 1\n"))
        .containsExactly("diskless_requests_seconds_bucket", "diskless_requests_seconds_count");
  }
}
