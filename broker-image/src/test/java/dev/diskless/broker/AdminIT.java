package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The topic administration a stock Admin client does: configs, partitions, records, deletion. */
class AdminIT {

  private Broker broker;
  private Admin admin;
  private String bootstrap;

  @BeforeEach
  void start() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    broker = Broker.start(BrokerConfig.local("admin-broker", storage));
    bootstrap = "127.0.0.1:" + broker.port();
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  @AfterEach
  void stop() {
    admin.close();
    broker.close();
  }

  @Test
  void configsPartitionsRecordsAndDeletion() throws Exception {
    admin
        .createTopics(
            List.of(new NewTopic("t", 2, (short) 1).configs(Map.of("retention.ms", "3600000"))))
        .all()
        .get();
    ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "t");

    Config config = admin.describeConfigs(List.of(topic)).all().get().get(topic);
    assertThat(config.get("retention.ms").value()).isEqualTo("3600000");
    assertThat(config.get("retention.ms").source())
        .isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
    assertThat(config.get("max.message.bytes").value()).isEqualTo("1048588");
    assertThat(config.get("max.message.bytes").source())
        .isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);

    admin
        .incrementalAlterConfigs(
            Map.of(
                topic,
                List.of(
                    new AlterConfigOp(
                        new ConfigEntry("message.timestamp.type", "LogAppendTime"),
                        AlterConfigOp.OpType.SET),
                    new AlterConfigOp(
                        new ConfigEntry("retention.ms", null), AlterConfigOp.OpType.DELETE))))
        .all()
        .get();
    config = admin.describeConfigs(List.of(topic)).all().get().get(topic);
    assertThat(config.get("message.timestamp.type").value()).isEqualTo("LogAppendTime");
    assertThat(config.get("retention.ms").source())
        .isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    for (ConfigEntry bad :
        List.of(
            new ConfigEntry("max.message.bytes", "lots"),
            new ConfigEntry("cleanup.policy", "compact,squash"),
            new ConfigEntry("no.such.config", "1"))) {
      var result =
          admin
              .incrementalAlterConfigs(
                  Map.of(topic, List.of(new AlterConfigOp(bad, AlterConfigOp.OpType.SET))))
              .all();
      assertThat(result)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableThat()
          .havingRootCause()
          .isInstanceOf(InvalidConfigurationException.class)
          .withMessageContaining(bad.name());
    }

    admin.createPartitions(Map.of("t", NewPartitions.increaseTo(4))).all().get();
    assertThat(admin.describeTopics(List.of("t")).allTopicNames().get().get("t").partitions())
        .hasSize(4);

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    long before = System.currentTimeMillis();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < 10; i++) {
        var md = producer.send(new ProducerRecord<>("t", 3, null, "r" + i)).get();
        assertThat(md.offset()).isEqualTo(i);
        assertThat(md.timestamp())
            .isGreaterThanOrEqualTo(before); // LogAppendTime, set by the broker
      }
    }

    TopicPartition tp3 = new TopicPartition("t", 3);
    assertThat(
            admin
                .deleteRecords(Map.of(tp3, RecordsToDelete.beforeOffset(5)))
                .lowWatermarks()
                .get(tp3)
                .get()
                .lowWatermark())
        .isEqualTo(5);
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      assertThat(consumer.beginningOffsets(List.of(tp3)).get(tp3)).isEqualTo(5);
      assertThat(consumer.endOffsets(List.of(tp3)).get(tp3)).isEqualTo(10);
    }

    assertThat(admin.describeCluster().nodes().get())
        .extracting(n -> n.id())
        .containsExactly(broker.nodeId());
    assertThat(admin.describeCluster().clusterId().get()).isEqualTo("diskless-local");

    admin.deleteTopics(List.of("t")).all().get();
    assertThat(admin.listTopics().names().get()).doesNotContain("t");
    admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get();
    assertThat(admin.describeTopics(List.of("t")).allTopicNames().get().get("t").partitions())
        .hasSize(1);
  }
}
