package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.testing.KafkaTool;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.tools.ConfigCommand;
import org.apache.kafka.tools.LogDirsCommand;
import org.apache.kafka.tools.reassign.ReassignPartitionsCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DescribeLogDirs for Kafka's tools: one virtual log dir per broker holding the partitions it owns,
 * each with the bytes stored for it, through the Admin API and kafka-log-dirs.sh itself; and
 * kafka-reassign-partitions.sh end to end, its replication throttles kept and reported
 * (kafka-configs.sh) and cleared by --verify.
 */
class LogDirsIT {

  @RegisterExtension final LocalBroker broker = new LocalBroker("log-dirs");

  @Test
  void aBrokerReportsItsPartitionsAndTheirStoredBytesInOneVirtualLogDir() throws Exception {
    try (Admin admin = broker.admin()) {
      admin.createTopics(List.of(new NewTopic("dirs", 3, (short) 1))).all().get();
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        for (int i = 0; i < 100; i++) {
          // Partitions 0 and 1 get records; 2 stays empty.
          producer.send(new ProducerRecord<>("dirs", i % 2, null, "value-" + i)).get();
        }
      }

      int node = broker.get().nodeId();
      Map<String, LogDirDescription> dirs =
          admin.describeLogDirs(List.of(node)).allDescriptions().get().get(node);
      String dir = "/diskless/" + node;
      assertThat(dirs).containsOnlyKeys(dir);
      Map<TopicPartition, ReplicaInfo> replicas = dirs.get(dir).replicaInfos();
      assertThat(replicas.get(new TopicPartition("dirs", 0)).size()).isGreaterThan(50 * 7);
      assertThat(replicas.get(new TopicPartition("dirs", 1)).size()).isGreaterThan(50 * 7);
      assertThat(replicas.get(new TopicPartition("dirs", 2)).size()).isZero();
      assertThat(replicas.values()).allSatisfy(r -> assertThat(r.offsetLag()).isZero());
      assertThat(dirs.get(dir).totalBytes()).isEmpty();

      String printed =
          KafkaTool.run(
              LogDirsCommand::main,
              "--bootstrap-server",
              broker.bootstrap(),
              "--describe",
              "--topic-list",
              "dirs");
      assertThat(printed)
          .contains("\"logDir\":\"" + dir + "\"")
          .contains("\"partition\":\"dirs-0\"")
          .contains("\"partition\":\"dirs-2\",\"size\":0")
          .doesNotContain("__consumer_offsets");
    }
  }

  @Test
  void kafkaReassignPartitionsExecutesWithAThrottleAndVerifies() throws Exception {
    try (Admin admin = broker.admin()) {
      admin.createTopics(List.of(new NewTopic("moved", 2, (short) 1))).all().get();
    }
    int node = broker.get().nodeId();
    java.nio.file.Path plan = java.nio.file.Files.createTempFile("reassign", ".json");
    plan.toFile().deleteOnExit();
    java.nio.file.Files.writeString(
        plan,
        "{\"version\":1,\"partitions\":[{\"topic\":\"moved\",\"partition\":0,\"replicas\":["
            + node
            + "],\"log_dirs\":[\"any\"]}]}");
    String executed =
        KafkaTool.run(
            ReassignPartitionsCommand::main,
            "--bootstrap-server",
            broker.bootstrap(),
            "--reassignment-json-file",
            plan.toString(),
            "--execute",
            "--throttle",
            "5000000");
    assertThat(executed)
        .contains("The inter-broker throttle limit was set to 5000000 B/s")
        .contains("Successfully started partition reassignment for moved-0");
    // The throttle is kept and reported as Kafka reports it (it has no effect here).
    String described =
        KafkaTool.run(
            ConfigCommand::main,
            "--bootstrap-server",
            broker.bootstrap(),
            "--describe",
            "--entity-type",
            "brokers",
            "--entity-name",
            String.valueOf(node));
    assertThat(described)
        .contains("Dynamic configs for broker " + node + " are:")
        .contains("leader.replication.throttled.rate=5000000")
        .contains("DYNAMIC_BROKER_CONFIG:follower.replication.throttled.rate=5000000");

    String verified =
        KafkaTool.run(
            ReassignPartitionsCommand::main,
            "--bootstrap-server",
            broker.bootstrap(),
            "--reassignment-json-file",
            plan.toString(),
            "--verify");
    assertThat(verified)
        .contains("Reassignment of partition moved-0 is completed.")
        .contains("Clearing broker-level throttles on broker")
        .contains("Clearing topic-level throttles on topic moved");
    try (Admin admin = broker.admin()) {
      ConfigResource resource =
          new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(node));
      Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
      assertThat(config.get("leader.replication.throttled.rate").source())
          .isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
      assertThat(config.get("leader.replication.throttled.rate").value())
          .isEqualTo(String.valueOf(Long.MAX_VALUE));
      // Other broker configs come from the broker settings, and a throttle must be a LONG >= 0.
      assertThatThrownBy(
              () ->
                  admin
                      .incrementalAlterConfigs(
                          Map.of(
                              resource,
                              List.of(
                                  new AlterConfigOp(
                                      new ConfigEntry("log.retention.ms", "1000"),
                                      AlterConfigOp.OpType.SET))))
                      .all()
                      .get())
          .hasCauseInstanceOf(InvalidRequestException.class)
          .hasMessageContaining("Cannot update these configs dynamically: [log.retention.ms]");
      assertThatThrownBy(
              () ->
                  admin
                      .incrementalAlterConfigs(
                          Map.of(
                              resource,
                              List.of(
                                  new AlterConfigOp(
                                      new ConfigEntry("leader.replication.throttled.rate", "-1"),
                                      AlterConfigOp.OpType.SET))))
                      .all()
                      .get())
          .hasCauseInstanceOf(InvalidConfigurationException.class);
    }
  }
}
