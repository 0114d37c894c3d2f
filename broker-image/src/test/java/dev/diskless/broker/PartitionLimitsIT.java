package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.metadata.PartitionLimits;
import dev.diskless.storage.testing.RawKafkaClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Partition counts past the broker's limits are refused at once with POLICY_VIOLATION naming the
 * limit, as Kafka's controller refuses requests that would create too many partitions, and nothing
 * is created. Issue 10: 2,147,483,647 partitions ran the heap out and answered KAFKA_STORAGE_ERROR.
 */
class PartitionLimitsIT {

  private static final int PER_TOPIC = 100;
  private static final int PER_CLUSTER = 250;
  private static final Duration BOUND = Duration.ofSeconds(30);

  private Broker broker;
  private Admin admin;

  @BeforeEach
  void start() throws Exception {
    broker =
        Broker.start(
            BrokerConfig.local("limits-broker", TestStorage.fresh())
                .withLimits(new PartitionLimits(PER_TOPIC, PER_CLUSTER), 100L << 20));
    admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + broker.port()));
  }

  @AfterEach
  void stop() {
    admin.close();
    broker.close();
  }

  @Test
  void createTopicsOverTheLimitsIsRefusedAndCreatesNothing() throws Exception {
    // The broker's own internal topics are created whatever the limits and count toward them.
    var internal =
        admin
            .describeTopics(List.of("__consumer_offsets", "__transaction_state"))
            .allTopicNames()
            .get();
    assertThat(internal.get("__consumer_offsets").partitions()).hasSize(50);
    assertThat(internal.get("__transaction_state").partitions()).hasSize(50);

    assertRefused(
        admin.createTopics(List.of(new NewTopic("huge", Integer.MAX_VALUE, (short) 1))).all(),
        "max.partitions.per.topic");
    assertRefused(
        admin
            .createTopics(
                List.of(new NewTopic("huge", Integer.MAX_VALUE, (short) 1)),
                new CreateTopicsOptions().validateOnly(true))
            .all(),
        "max.partitions.per.topic");
    assertRefused(
        admin.createTopics(List.of(new NewTopic("over", PER_TOPIC + 1, (short) 1))).all(),
        "max.partitions.per.topic");

    admin.createTopics(List.of(new NewTopic("full", PER_TOPIC, (short) 1))).all().get();
    // 50 + 50 + 100 exist; 30 + 30 more would pass 250: the whole request is refused.
    assertRefused(
        admin
            .createTopics(
                List.of(new NewTopic("a", 30, (short) 1), new NewTopic("b", 30, (short) 1)))
            .all(),
        "max.partitions.per.cluster");

    assertThat(admin.listTopics().names().get()).containsExactly("full");
  }

  @Test
  void createPartitionsOverTheLimitsIsRefusedAndAddsNothing() throws Exception {
    admin
        .createTopics(
            List.of(new NewTopic("big", PER_TOPIC, (short) 1), new NewTopic("t", 10, (short) 1)))
        .all()
        .get();
    // 50 + 50 + 100 + 10 = 210 exist.
    assertRefused(
        admin.createPartitions(Map.of("t", NewPartitions.increaseTo(Integer.MAX_VALUE))).all(),
        "max.partitions.per.topic");
    assertRefused(
        admin.createPartitions(Map.of("t", NewPartitions.increaseTo(PER_TOPIC + 1))).all(),
        "max.partitions.per.topic");
    assertRefused(
        admin.createPartitions(Map.of("t", NewPartitions.increaseTo(51))).all(),
        "max.partitions.per.cluster");
    assertThat(partitions("t")).isEqualTo(10);

    admin.createPartitions(Map.of("t", NewPartitions.increaseTo(50))).all().get();
    assertThat(partitions("t")).isEqualTo(50);

    // Now exactly full: a Metadata request does not auto-create past the limit either.
    MetadataResponse metadata =
        (MetadataResponse)
            RawKafkaClient.send(
                broker.port(),
                new MetadataRequest(
                    new MetadataRequestData()
                        .setAllowAutoTopicCreation(true)
                        .setTopics(
                            List.of(
                                new MetadataRequestData.MetadataRequestTopic().setName("auto"))),
                    (short) 12));
    assertThat(metadata.errors()).containsEntry("auto", Errors.UNKNOWN_TOPIC_OR_PARTITION);
    assertThat(admin.listTopics().names().get()).isEqualTo(Set.of("big", "t"));
  }

  private int partitions(String topic) throws Exception {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get()
        .get(topic)
        .partitions()
        .size();
  }

  private static void assertRefused(Future<Void> result, String limit) {
    assertThat(result)
        .failsWithin(BOUND)
        .withThrowableThat()
        .havingRootCause()
        .isInstanceOf(PolicyViolationException.class)
        .withMessageContaining(limit);
  }
}
