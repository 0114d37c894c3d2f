package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.Kcat;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.testing.RawKafkaClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Zone-local reads (KIP-392) with three brokers in zone-a, zone-b and zone-c over one PostgreSQL
 * and one bucket: every partition reports its owner plus a read replica in each other zone; a stock
 * consumer with {@code client.rack=zone-b} is sent by each owner to the zone-b broker and reads
 * everything exactly once without a byte crossing zones (kcat/librdkafka too); a consumer without a
 * rack reads from the owners; a replica refuses fetches without client metadata; and when the
 * zone-b broker stops, the zone-b consumer falls back to the owners and keeps consuming. Prints the
 * produce-ack-to-consume latency through the replica and from the owner, measured in the same run,
 * and the replica's metadata polls per second while a consumer tails.
 */
class ZoneLocalReadsIT {

  private static final List<String> ZONES = List.of("zone-a", "zone-b", "zone-c");
  private static final int PARTITIONS = 6;

  private final List<Broker> brokers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  private void startZonalBrokers() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    for (String zone : ZONES) {
      brokers.add(
          Broker.start(BrokerConfig.local("zonal-" + zone, storage).withRack(Optional.of(zone))));
    }
  }

  private Broker inZone(String zone) {
    return brokers.get(ZONES.indexOf(zone));
  }

  private String bootstrap() {
    return brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
  }

  /** Creates {@code topic} and waits until every broker owns some of its partitions. */
  private Map<Integer, Integer> createSpreadTopic(Admin admin, String topic) throws Exception {
    admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                brokers.stream().allMatch(b -> !b.ownedPartitions(topic).isEmpty())
                    && owners(topic).size() == PARTITIONS);
    return owners(topic);
  }

  private Map<Integer, Integer> owners(String topic) {
    Map<Integer, Integer> owner = new HashMap<>();
    for (Broker b : brokers) {
      b.ownedPartitions(topic).forEach(tp -> owner.put(tp.partition(), b.nodeId()));
    }
    return owner;
  }

  @Test
  void zoneLocalConsumerReadsOnlyFromItsZoneAndFallsBackWhenItsBrokerStops() throws Exception {
    startZonalBrokers();
    Broker zoneB = inZone("zone-b");
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
      Map<Integer, Integer> owner = createSpreadTopic(admin, "zonal");

      // Replicas: the owner first, then the one broker of each other zone; all in sync.
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                TopicDescription d =
                    admin.describeTopics(List.of("zonal")).allTopicNames().get().get("zonal");
                for (TopicPartitionInfo p : d.partitions()) {
                  int leader = owner.get(p.partition());
                  assertThat(p.leader().id()).isEqualTo(leader);
                  assertThat(p.replicas()).hasSize(3);
                  assertThat(p.replicas().get(0).id()).isEqualTo(leader);
                  assertThat(p.replicas().stream().map(Node::rack))
                      .containsExactlyInAnyOrderElementsOf(ZONES);
                  assertThat(p.isr()).isEqualTo(p.replicas());
                }
              });

      Map<TopicPartition, Map<Long, String>> produced = new ConcurrentHashMap<>();
      produce("zonal", "first", 300, produced);

      // A consumer in zone-b reads everything, exactly once, all of it from the zone-b broker.
      try (KafkaConsumer<String, String> local = consumer(Optional.of("zone-b"))) {
        local.assign(partitions("zonal"));
        Map<TopicPartition, Map<Long, String>> read = new HashMap<>();
        consumeUntil(local, read, count(produced));
        assertThat(read).isEqualTo(produced);
        Map<String, Double> b = fetchBytes(zoneB);
        assertThat(b.get("same")).isPositive();
        for (Broker broker : brokers) {
          Map<String, Double> m = fetchBytes(broker);
          assertThat(m.get("cross")).as("cross-zone bytes of node %d", broker.nodeId()).isZero();
          assertThat(m.get("unknown")).isZero();
          if (broker != zoneB) {
            assertThat(m.get("same")).as("node %d serves zone-b nothing", broker.nodeId()).isZero();
          }
        }
        System.out.printf(
            "zone-local consumer: %.0f bytes from the zone-b broker, 0 across zones%n",
            b.get("same"));

        kcatReadsFromItsZone(produced);

        // Without a rack, consumers read from the owners, as before.
        try (KafkaConsumer<String, String> anywhere = consumer(Optional.empty())) {
          anywhere.assign(partitions("zonal"));
          Map<TopicPartition, Map<Long, String>> all = new HashMap<>();
          consumeUntil(anywhere, all, count(produced));
          assertThat(all).isEqualTo(produced);
        }
        for (Broker broker : brokers) {
          assertThat(fetchBytes(broker).get("unknown"))
              .as("node %d served its own partitions", broker.nodeId())
              .isPositive();
          assertThat(fetchBytes(broker).get("cross")).isZero();
        }

        measureLatencyAndPolls(local, read, produced, owner);

        // The zone-b broker stops (a clean drain) while records keep coming: the zone-b consumer
        // goes back to the owners and keeps reading, still exactly once.
        AtomicBoolean producing = new AtomicBoolean(true);
        Thread writer =
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        produce("zonal", "during", 200, produced);
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      } finally {
                        producing.set(false);
                      }
                    });
        Thread.sleep(300);
        brokers.remove(zoneB);
        zoneB.close();
        writer.join(Duration.ofSeconds(120));
        assertThat(producing).isFalse();
        produce("zonal", "after", 100, produced);
        consumeUntil(local, read, count(produced));
        assertThat(read).isEqualTo(produced);
      }
    }
  }

  /** kcat (librdkafka) with client.rack=zone-b also reads everything from the zone-b broker. */
  private void kcatReadsFromItsZone(Map<TopicPartition, Map<Long, String>> produced)
      throws Exception {
    if (!Kcat.available()) {
      System.out.println("kcat is not installed here; skipping its zone-local read");
      return;
    }
    Broker zoneB = inZone("zone-b");
    double sameBefore = fetchBytes(zoneB).get("same");
    Kcat.Result r =
        Kcat.run(
            List.of(
                "kcat",
                "-b",
                bootstrap(),
                "-X",
                "client.rack=zone-b",
                "-C",
                "-t",
                "zonal",
                "-o",
                "beginning",
                "-e",
                "-f",
                "%p %o %s\\n"),
            null);
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<TopicPartition, Map<Long, String>> read = new HashMap<>();
    for (String line : r.out().lines().toList()) {
      String[] f = line.split(" ", 3);
      String previous =
          read.computeIfAbsent(
                  new TopicPartition("zonal", Integer.parseInt(f[0])), k -> new HashMap<>())
              .put(Long.parseLong(f[1]), f[2]);
      assertThat(previous).as("duplicate %s", line).isNull();
    }
    assertThat(read).isEqualTo(produced);
    assertThat(fetchBytes(zoneB).get("same")).isGreaterThan(sameBefore);
    for (Broker broker : brokers) {
      assertThat(fetchBytes(broker).get("cross")).isZero();
      if (broker != zoneB) {
        assertThat(fetchBytes(broker).get("same")).isZero();
      }
    }
  }

  /**
   * Tails one partition owned outside zone-b with the zone-b consumer (served by the zone-b read
   * replica) and with a consumer without a rack (served by the owner), sends records one at a time,
   * and prints how long after its acknowledgement each consumer had each record; then the read
   * replica's high-watermark polls per second while the consumers tail an idle log.
   */
  private void measureLatencyAndPolls(
      KafkaConsumer<String, String> local,
      Map<TopicPartition, Map<Long, String>> localRead,
      Map<TopicPartition, Map<Long, String>> produced,
      Map<Integer, Integer> owner)
      throws Exception {
    Broker zoneB = inZone("zone-b");
    int partition =
        owner.entrySet().stream()
            .filter(e -> e.getValue() != zoneB.nodeId())
            .findFirst()
            .orElseThrow()
            .getKey();
    TopicPartition tp = new TopicPartition("zonal", partition);
    Map<String, Long> viaReplica = new ConcurrentHashMap<>();
    Map<String, Long> viaOwner = new ConcurrentHashMap<>();
    AtomicBoolean tailing = new AtomicBoolean(true);
    try (KafkaConsumer<String, String> fromOwner = consumer(Optional.empty())) {
      fromOwner.assign(List.of(tp));
      fromOwner.seekToEnd(List.of(tp));
      fromOwner.position(tp);
      Thread ownerTail =
          Thread.ofPlatform()
              .start(
                  () -> {
                    while (tailing.get()) {
                      for (ConsumerRecord<String, String> r :
                          fromOwner.poll(Duration.ofMillis(100))) {
                        viaOwner.put(r.value(), System.nanoTime());
                      }
                    }
                  });
      Thread replicaTail =
          Thread.ofPlatform()
              .start(
                  () -> {
                    while (tailing.get()) {
                      for (ConsumerRecord<String, String> r : local.poll(Duration.ofMillis(100))) {
                        localRead
                            .computeIfAbsent(
                                new TopicPartition(r.topic(), r.partition()), k -> new HashMap<>())
                            .put(r.offset(), r.value());
                        viaReplica.put(r.value(), System.nanoTime());
                      }
                    }
                  });
      try {
        Thread.sleep(1000);
        measure(zoneB, tp, produced, viaReplica, viaOwner);
      } finally {
        tailing.set(false);
        ownerTail.join();
        replicaTail.join();
      }
    }
  }

  /** Prints the polls per second of an idle tail, then the latencies of 100 records to tp. */
  private void measure(
      Broker zoneB,
      TopicPartition tp,
      Map<TopicPartition, Map<Long, String>> produced,
      Map<String, Long> viaReplica,
      Map<String, Long> viaOwner)
      throws Exception {
    {
      // Polls per second while both consumers long-poll an idle log.
      double pollsBefore = polls(zoneB);
      long idleStart = System.nanoTime();
      Thread.sleep(3000);
      double pollsPerSecond =
          (polls(zoneB) - pollsBefore) / ((System.nanoTime() - idleStart) / 1e9);

      Map<String, Long> acked = new HashMap<>();
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps())) {
        for (int i = 0; i < 100; i++) {
          String value = "latency-" + i;
          RecordMetadata m =
              producer.send(new ProducerRecord<>("zonal", tp.partition(), null, value)).get();
          acked.put(value, System.nanoTime());
          produced.computeIfAbsent(tp, k -> new ConcurrentHashMap<>()).put(m.offset(), value);
          Thread.sleep(20);
        }
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  viaReplica.keySet().containsAll(acked.keySet())
                      && viaOwner.keySet().containsAll(acked.keySet()));
      System.out.printf(
          "produce ack -> consume, ms (p50 / p90 / max) over %d records: via zone-b read replica"
              + " %s; from the owner %s%n",
          acked.size(), percentiles(acked, viaReplica), percentiles(acked, viaOwner));
      System.out.printf(
          "read replica high-watermark polls while two consumers tail: %.1f/s%n", pollsPerSecond);
      assertThat(pollsPerSecond).isPositive();
    }
  }

  private static String percentiles(Map<String, Long> acked, Map<String, Long> received) {
    List<Double> ms =
        acked.entrySet().stream()
            .map(e -> (received.get(e.getKey()) - e.getValue()) / 1e6)
            .sorted()
            .toList();
    return String.format(
        "%.1f / %.1f / %.1f",
        ms.get(ms.size() / 2), ms.get(ms.size() * 9 / 10), ms.get(ms.size() - 1));
  }

  @Test
  void ownerNamesTheReadReplicaAndReplicasServeOnlyClientsWithMetadata() throws Exception {
    startZonalBrokers();
    Broker zoneA = inZone("zone-a");
    Broker zoneB = inZone("zone-b");
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
      Map<Integer, Integer> owner = createSpreadTopic(admin, "raw");
      int partition =
          owner.entrySet().stream()
              .filter(e -> e.getValue() == zoneA.nodeId())
              .findFirst()
              .orElseThrow()
              .getKey();
      Map<TopicPartition, Map<Long, String>> produced = new ConcurrentHashMap<>();
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps())) {
        for (int i = 0; i < 10; i++) {
          producer.send(new ProducerRecord<>("raw", partition, null, "v" + i)).get();
        }
      }
      int epoch =
          zoneA
              .engine()
              .logs()
              .local(
                  zoneA.ownedPartitions("raw").stream()
                      .filter(tp -> tp.partition() == partition)
                      .findFirst()
                      .orElseThrow())
              .orElseThrow()
              .leaderEpoch();

      // The owner (zone-a) sends a zone-b consumer to the zone-b broker: no records, offsets.
      FetchResponseData.PartitionData redirected =
          fetch(zoneA, 12, "zone-b", partition, 0, epoch, 0);
      assertThat(Errors.forCode(redirected.errorCode())).isEqualTo(Errors.NONE);
      assertThat(redirected.preferredReadReplica()).isEqualTo(zoneB.nodeId());
      assertThat(redirected.records().sizeInBytes()).isZero();
      assertThat(redirected.highWatermark()).isEqualTo(10);
      assertThat(redirected.logStartOffset()).isZero();
      // Same zone, no rack, or no client metadata: the owner serves.
      for (FetchResponseData.PartitionData served :
          List.of(
              fetch(zoneA, 12, "zone-a", partition, 0, epoch, 0),
              fetch(zoneA, 12, "", partition, 0, epoch, 0),
              fetch(zoneA, 10, "", partition, 0, -1, 0))) {
        assertThat(Errors.forCode(served.errorCode())).isEqualTo(Errors.NONE);
        assertThat(served.preferredReadReplica()).isEqualTo(-1);
        assertThat(served.records().sizeInBytes()).isPositive();
      }

      // The zone-b read replica serves a consumer with client metadata, committed data only.
      FetchResponseData.PartitionData replica = fetch(zoneB, 12, "zone-b", partition, 0, epoch, 0);
      assertThat(Errors.forCode(replica.errorCode())).isEqualTo(Errors.NONE);
      assertThat(replica.highWatermark()).isEqualTo(10);
      assertThat(replica.records().sizeInBytes()).isPositive();
      assertThat(replica.preferredReadReplica()).isEqualTo(-1);
      // ... refuses one without (Fetch v10), as Kafka's follower does ...
      assertThat(Errors.forCode(fetch(zoneB, 10, "", partition, 0, -1, 0).errorCode()))
          .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
      // ... checks the leader epoch the fetch names ...
      assertThat(Errors.forCode(fetch(zoneB, 12, "zone-b", partition, 0, epoch - 1, 0).errorCode()))
          .isEqualTo(Errors.FENCED_LEADER_EPOCH);
      assertThat(Errors.forCode(fetch(zoneB, 12, "zone-b", partition, 0, epoch + 1, 0).errorCode()))
          .isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
      // ... and answers an offset past the high watermark with OFFSET_OUT_OF_RANGE.
      assertThat(Errors.forCode(fetch(zoneB, 12, "zone-b", partition, 11, epoch, 0).errorCode()))
          .isEqualTo(Errors.OFFSET_OUT_OF_RANGE);

      // A long poll on the replica is woken by the commit, not by its 20 s max wait.
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (KafkaProducer<String, String> producer =
                        new KafkaProducer<>(producerProps())) {
                      Thread.sleep(500);
                      producer.send(new ProducerRecord<>("raw", partition, null, "late")).get();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
      long start = System.nanoTime();
      FetchResponseData.PartitionData woken =
          fetch(zoneB, 12, "zone-b", partition, 10, epoch, 20_000);
      Duration waited = Duration.ofNanos(System.nanoTime() - start);
      writer.join();
      assertThat(Errors.forCode(woken.errorCode())).isEqualTo(Errors.NONE);
      assertThat(woken.records().sizeInBytes()).isPositive();
      assertThat(waited).isLessThan(Duration.ofSeconds(15));
      assertThat(polls(zoneB)).isPositive();
    }
  }

  /** One raw fetch of {@code partition} of "raw" at {@code version}, min.bytes 1. */
  private static FetchResponseData.PartitionData fetch(
      Broker broker,
      int version,
      String rack,
      int partition,
      long offset,
      int currentLeaderEpoch,
      int maxWaitMs)
      throws Exception {
    FetchRequestData data =
        new FetchRequestData()
            .setReplicaId(-1)
            .setMaxWaitMs(maxWaitMs)
            .setMinBytes(1)
            .setMaxBytes(1 << 20)
            .setSessionId(0)
            .setSessionEpoch(-1)
            .setRackId(rack);
    data.topics()
        .add(
            new FetchRequestData.FetchTopic()
                .setTopic("raw")
                .setPartitions(
                    List.of(
                        new FetchRequestData.FetchPartition()
                            .setPartition(partition)
                            .setFetchOffset(offset)
                            .setCurrentLeaderEpoch(currentLeaderEpoch)
                            .setPartitionMaxBytes(1 << 20))));
    FetchResponse response =
        (FetchResponse) RawKafkaClient.send(broker.port(), new FetchRequest(data, (short) version));
    return response.data().responses().get(0).partitions().get(0);
  }

  private static int count(Map<TopicPartition, Map<Long, String>> records) {
    return records.values().stream().mapToInt(Map::size).sum();
  }

  private static Collection<TopicPartition> partitions(String topic) {
    List<TopicPartition> out = new ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) {
      out.add(new TopicPartition(topic, p));
    }
    return out;
  }

  private static void consumeUntil(
      KafkaConsumer<String, String> consumer,
      Map<TopicPartition, Map<Long, String>> read,
      int total) {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (count(read) < total && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
        String previous =
            read.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new HashMap<>())
                .put(r.offset(), r.value());
        assertThat(previous)
            .as("duplicate at %s-%d@%d", r.topic(), r.partition(), r.offset())
            .isNull();
      }
    }
    assertThat(count(read)).isEqualTo(total);
  }

  private void produce(
      String topic, String prefix, int n, Map<TopicPartition, Map<Long, String>> produced)
      throws Exception {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps())) {
      List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
      List<String> values = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String value = prefix + "-" + i;
        values.add(value);
        sent.add(producer.send(new ProducerRecord<>(topic, "k" + i, value)));
      }
      for (int i = 0; i < n; i++) {
        RecordMetadata m = sent.get(i).get();
        produced
            .computeIfAbsent(
                new TopicPartition(topic, m.partition()), k -> new ConcurrentHashMap<>())
            .put(m.offset(), values.get(i));
      }
    }
  }

  private Properties producerProps() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return p;
  }

  private KafkaConsumer<String, String> consumer(Optional<String> rack) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    rack.ifPresent(r -> c.put(ConsumerConfig.CLIENT_RACK_CONFIG, r));
    return new KafkaConsumer<>(c);
  }

  /** {@code diskless.fetch.bytes} by zone relation, from the broker's Prometheus endpoint. */
  private Map<String, Double> fetchBytes(Broker broker) throws Exception {
    Map<String, Double> out = new HashMap<>(Map.of("same", 0.0, "cross", 0.0, "unknown", 0.0));
    Matcher m =
        Pattern.compile("(?m)^diskless_fetch_bytes_total\\{[^}]*zone=\"(\\w+)\"[^}]*} (\\S+)$")
            .matcher(scrape(broker));
    while (m.find()) {
      out.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    return out;
  }

  /** Successful high-watermark polls of the broker's read-replica tail follower. */
  private double polls(Broker broker) throws Exception {
    Matcher m =
        Pattern.compile(
                "(?m)^diskless_replica_tail_polls_seconds_count\\{[^}]*outcome=\"ok\"[^}]*} (\\S+)$")
            .matcher(scrape(broker));
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private String scrape(Broker broker) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
