package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.KafkaTool;
import dev.diskless.storage.metrics.StorageMetrics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.tools.GetOffsetShell;
import org.junit.jupiter.api.Test;

/**
 * ListOffsets as {@code kafka-get-offsets.sh} and the Admin API use it: earliest, latest, by
 * timestamp and MAX_TIMESTAMP (the earliest record with the largest timestamp, KIP-734), on records
 * whose timestamps are not in offset order.
 */
class ListOffsetsIT {

  @Test
  void earliestLatestByTimestampAndMaxTimestamp() throws Exception {
    try (Broker broker =
        Broker.start(
            BrokerConfig.local("offsets", TestStorage.fresh()), StorageMetrics.noExport())) {
      String bootstrap = "127.0.0.1:" + broker.port();
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopics(List.of(new NewTopic("stamped", 1, (short) 1))).all().get();
      }
      long[] timestamps = {1_000, 5_000, 3_000, 5_000, 2_000};
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(
              Map.of(
                  "bootstrap.servers",
                  bootstrap,
                  "key.serializer",
                  StringSerializer.class.getName(),
                  "value.serializer",
                  StringSerializer.class.getName()))) {
        for (long ts : timestamps) {
          // One request each: the timestamps land in separate batches and index entries.
          producer.send(new ProducerRecord<>("stamped", 0, ts, "k", "at " + ts)).get();
        }
      }
      TopicPartition tp = new TopicPartition("stamped", 0);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        ListOffsetsResultInfo max =
            admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).partitionResult(tp).get();
        assertThat(max.offset()).isEqualTo(1);
        assertThat(max.timestamp()).isEqualTo(5_000);
        assertThat(
                admin
                    .listOffsets(Map.of(tp, OffsetSpec.forTimestamp(2_500)))
                    .partitionResult(tp)
                    .get()
                    .offset())
            .isEqualTo(1);
      }
      assertThat(offsets(bootstrap, "max-timestamp")).isEqualTo("stamped:0:1");
      assertThat(offsets(bootstrap, "earliest")).isEqualTo("stamped:0:0");
      assertThat(offsets(bootstrap, "latest")).isEqualTo("stamped:0:5");
      assertThat(offsets(bootstrap, "2500")).isEqualTo("stamped:0:1");
    }
  }

  private static String offsets(String bootstrap, String time) {
    return KafkaTool.run(
            GetOffsetShell::main,
            "--bootstrap-server",
            bootstrap,
            "--topic",
            "stamped",
            "--time",
            time)
        .strip()
        .lines()
        // The tool's answer is its last line; the client's logs come before it.
        .reduce((first, last) -> last)
        .orElse("");
  }
}
