package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.connect.CountingSourceConnector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.connect.cli.ConnectDistributed;
import org.apache.kafka.connect.runtime.Connect;
import org.apache.kafka.connect.runtime.distributed.DistributedHerder;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorInfo;
import org.apache.kafka.connect.util.FutureCallback;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Kafka Connect 4.4 distributed worker runs against a diskless broker: it checks its config,
 * offset and status topics are compacted, runs a source connector, and after its internal topics
 * are compacted and the worker is replaced, the new worker finds the connector's config and resumes
 * from its stored source offset.
 */
class KafkaConnectIT {

  private static final Map<String, String> INTERNAL =
      Map.of(
          "cleanup.policy", "compact",
          // Everything but the newest second may be compacted.
          "segment.ms", "1000",
          "min.cleanable.dirty.ratio", "0.01");

  @RegisterExtension final LocalBroker broker = new LocalBroker("connect");

  @Test
  void aDistributedWorkerResumesFromItsCompactedOffsetsAfterARestart() throws Exception {
    try (Admin admin = broker.admin()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("connect-configs", 1, (short) 1).configs(INTERNAL),
                  new NewTopic("connect-offsets", 1, (short) 1).configs(INTERNAL),
                  new NewTopic("connect-status", 1, (short) 1).configs(INTERNAL),
                  new NewTopic("numbers", 1, (short) 1)))
          .all()
          .get();
    }
    Connect<DistributedHerder> first = worker();
    try {
      FutureCallback<org.apache.kafka.connect.runtime.Herder.Created<ConnectorInfo>> created =
          new FutureCallback<>();
      first
          .herder()
          .putConnectorConfig(
              "counter",
              Map.of(
                  "name", "counter",
                  "connector.class", CountingSourceConnector.class.getName(),
                  "tasks.max", "1",
                  "topic", "numbers"),
              false,
              created);
      created.get(60, TimeUnit.SECONDS);
      awaitNumbersUpTo(300);
    } finally {
      first.stop();
    }
    List<Long> beforeRestart = numbers();
    long lastBefore = beforeRestart.get(beforeRestart.size() - 1);

    // Compact the internal topics: the offsets topic keeps about the latest position only.
    Thread.sleep(1_200);
    broker.get().engine().maintenance().runOnce().join();
    long[] offsets = endAndCount(new TopicPartition("connect-offsets", 0));
    assertThat(offsets[1]).isLessThan(offsets[0]);

    Connect<DistributedHerder> second = worker();
    try {
      awaitNumbersUpTo(lastBefore + 200);
    } finally {
      second.stop();
    }
    List<Long> all = numbers();
    // At least once: the task resumes after the last offset Connect committed, so numbers may
    // repeat from there but none is skipped, and it does not start again from 0.
    assertThat(all.stream().filter(n -> n == 0).count()).isEqualTo(1);
    List<Long> distinct = all.stream().distinct().sorted().toList();
    assertThat(distinct.get(distinct.size() - 1)).isGreaterThanOrEqualTo(lastBefore + 200);
    for (int i = 0; i < distinct.size(); i++) {
      assertThat(distinct.get(i)).isEqualTo((long) i);
    }
    long repeated = all.size() - distinct.size();
    assertThat(repeated).as("numbers produced again after the restart").isLessThan(200);
  }

  private Connect<DistributedHerder> worker() {
    Map<String, String> props = new HashMap<>();
    props.put("bootstrap.servers", broker.bootstrap());
    props.put("group.id", "connect-cluster");
    props.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    props.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    props.put("config.storage.topic", "connect-configs");
    props.put("offset.storage.topic", "connect-offsets");
    props.put("status.storage.topic", "connect-status");
    props.put("config.storage.replication.factor", "1");
    props.put("offset.storage.replication.factor", "1");
    props.put("status.storage.replication.factor", "1");
    props.put("offset.flush.interval.ms", "200");
    props.put("listeners", "http://127.0.0.1:0");
    props.put("scheduled.rebalance.max.delay.ms", "0");
    // Plugins by their ServiceLoader manifests (the test connector has one) instead of a scan of
    // the whole test classpath, which takes seconds.
    props.put("plugin.discovery", "service_load");
    return new ConnectDistributed().startConnect(props);
  }

  private void awaitNumbersUpTo(long n) {
    Awaitility.await()
        .atMost(90, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> numbers().stream().anyMatch(x -> x >= n));
  }

  /** Every number on the output topic, in offset order. */
  private List<Long> numbers() {
    TopicPartition tp = new TopicPartition("numbers", 0);
    List<Long> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = consumer()) {
      consumer.assign(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(Long.parseLong(r.value()));
        }
      }
    }
    return out;
  }

  private long[] endAndCount(TopicPartition tp) {
    try (KafkaConsumer<String, String> consumer = consumer()) {
      consumer.assign(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      consumer.seekToBeginning(List.of(tp));
      long count = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return new long[] {end, count};
    }
  }

  private KafkaConsumer<String, String> consumer() {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(c);
  }
}
