package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.KafkaTool;
import dev.diskless.storage.testing.RawKafkaClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.AlterConfigsResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.apache.kafka.tools.ConfigCommand;
import org.apache.kafka.tools.TopicCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every Apache Kafka 4.4 topic config through a stock Admin client against a real broker (real
 * PostgreSQL and S3Proxy): accepted with Kafka's validation on CreateTopics,
 * IncrementalAlterConfigs and the legacy AlterConfigs, reported by DescribeConfigs as Kafka reports
 * them, and {@code compression.type} recompressing what producers send.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TopicConfigsIT {

  private Broker broker;
  private Admin admin;
  private String bootstrap;

  @BeforeAll
  void start() throws Exception {
    broker = Broker.start(BrokerConfig.local("topic-configs", TestStorage.fresh()));
    bootstrap = "127.0.0.1:" + broker.port();
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  @AfterAll
  void stop() {
    admin.close();
    broker.close();
  }

  /** Kafka's default of a topic config, as DescribeConfigs shows it. */
  private static String kafkaDefault(String name) {
    ConfigDef.ConfigKey key = LogConfig.configKeys().get(name);
    return ConfigDef.convertToString(key.defaultValue, key.type);
  }

  private Config describe(String topic) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return admin.describeConfigs(List.of(r)).all().get().get(r);
  }

  private static ConfigResource topic(String name) {
    return new ConfigResource(ConfigResource.Type.TOPIC, name);
  }

  private static void assertInvalidConfig(Future<?> result, String naming) {
    assertThat(result)
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableThat()
        .havingRootCause()
        .isInstanceOf(InvalidConfigurationException.class)
        .withMessageContaining(naming);
  }

  @Test
  void everyKafkaTopicConfigIsAcceptedAndDescribedAsKafkaDoes() throws Exception {
    // Every config Kafka 4.4 knows, set explicitly to its default...
    Map<String, String> all = new HashMap<>();
    for (String name : LogConfig.nonInternalConfigNames()) {
      all.put(name, kafkaDefault(name));
    }
    admin.createTopics(List.of(new NewTopic("all-configs", 1, (short) 1).configs(all))).all().get();
    Config described = describe("all-configs");
    for (String name : LogConfig.nonInternalConfigNames()) {
      assertThat(described.get(name)).as(name).isNotNull();
      assertThat(described.get(name).source())
          .as(name)
          .isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
      assertThat(described.get(name).value()).as(name).isEqualTo(kafkaDefault(name));
    }

    // ...and a sample of every kind set to something else: replication, flush, index, segment,
    // compression, timestamps, tiered storage, throttles.
    Map<String, String> sample =
        Map.ofEntries(
            Map.entry("segment.bytes", "1048576"),
            Map.entry("segment.ms", "3600000"),
            Map.entry("min.insync.replicas", "2"),
            Map.entry("unclean.leader.election.enable", "true"),
            Map.entry("compression.type", "zstd"),
            Map.entry("compression.zstd.level", "7"),
            Map.entry("message.timestamp.type", "LogAppendTime"),
            Map.entry("flush.ms", "1000"),
            Map.entry("flush.messages", "10"),
            Map.entry("preallocate", "true"),
            Map.entry("index.interval.bytes", "8192"),
            Map.entry("follower.replication.throttled.replicas", "*"),
            Map.entry("remote.storage.enable", "true"),
            Map.entry("local.retention.ms", "1000"),
            Map.entry("max.message.bytes", "2000000"));
    CreateTopicsResult created =
        admin.createTopics(List.of(new NewTopic("sample-configs", 3, (short) 3).configs(sample)));
    created.all().get();
    // The CreateTopics response carries the effective configs too.
    assertThat(created.config("sample-configs").get().get("segment.bytes").value())
        .isEqualTo("1048576");
    assertThat(created.config("sample-configs").get().get("retention.ms").value())
        .isEqualTo("604800000");
    described = describe("sample-configs");
    for (ConfigEntry e : described.entries()) {
      if (sample.containsKey(e.name())) {
        assertThat(e.value()).as(e.name()).isEqualTo(sample.get(e.name()));
        assertThat(e.source()).as(e.name()).isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
      } else {
        assertThat(e.value()).as(e.name()).isEqualTo(kafkaDefault(e.name()));
        assertThat(e.source()).as(e.name()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
      }
      assertThat(e.isReadOnly()).isFalse();
      assertThat(e.isSensitive()).isFalse();
    }
    assertThat(described.entries())
        .extracting(ConfigEntry::name)
        .containsExactlyInAnyOrderElementsOf(LogConfig.nonInternalConfigNames());
  }

  @Test
  void synonymsDocumentationAndTypesAreReportedOnRequest() throws Exception {
    admin
        .createTopics(
            List.of(
                new NewTopic("synonyms", 1, (short) 1).configs(Map.of("segment.bytes", "2097152"))))
        .all()
        .get();
    ConfigResource r = topic("synonyms");
    Config config =
        admin
            .describeConfigs(
                List.of(r),
                new DescribeConfigsOptions().includeSynonyms(true).includeDocumentation(true))
            .all()
            .get()
            .get(r);
    ConfigEntry segment = config.get("segment.bytes");
    assertThat(segment.type()).isEqualTo(ConfigEntry.ConfigType.INT);
    assertThat(segment.documentation()).contains("segment file size");
    assertThat(segment.synonyms())
        .extracting(s -> s.name() + "=" + s.value() + "@" + s.source())
        .containsExactly(
            "segment.bytes=2097152@DYNAMIC_TOPIC_CONFIG",
            "log.segment.bytes=1073741824@DEFAULT_CONFIG");
    ConfigEntry cleanup = config.get("cleanup.policy");
    assertThat(cleanup.type()).isEqualTo(ConfigEntry.ConfigType.LIST);
    assertThat(cleanup.source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
    assertThat(cleanup.synonyms())
        .extracting(s -> s.name() + "=" + s.value() + "@" + s.source())
        .containsExactly("log.cleanup.policy=delete@DEFAULT_CONFIG");
    // Without the options, neither synonyms nor documentation.
    ConfigEntry plain = describe("synonyms").get("segment.bytes");
    assertThat(plain.synonyms()).isEmpty();
    assertThat(plain.documentation()).isNull();
    // Every non-internal config is listed once.
    assertThat(admin.describeConfigs(List.of(r)).all().get().get(r).entries().size())
        .isEqualTo(LogConfig.nonInternalConfigNames().size());
  }

  @Test
  void badValuesAndUnknownNamesAreRefusedNamingTheConfig() throws Exception {
    Map<String, String> bad =
        Map.of(
            "segment.bytes", "-1",
            "compression.type", "snappyx",
            "min.insync.replicas", "abc",
            "no.such.config", "1",
            "cleanup.policy", "compactx",
            "retention.ms", "-7");
    for (var e : bad.entrySet()) {
      assertInvalidConfig(
          admin
              .createTopics(
                  List.of(
                      new NewTopic("bad", 1, (short) 1).configs(Map.of(e.getKey(), e.getValue()))))
              .all(),
          e.getKey());
    }
    // Kafka's cross-config rules.
    assertInvalidConfig(
        admin
            .createTopics(
                List.of(
                    new NewTopic("bad", 1, (short) 1)
                        .configs(
                            Map.of("min.compaction.lag.ms", "10", "max.compaction.lag.ms", "5"))))
            .all(),
        "min.compaction.lag.ms");
    // The message is Kafka's own.
    assertInvalidConfig(
        admin
            .createTopics(
                List.of(new NewTopic("bad", 1, (short) 1).configs(Map.of("segment.bytes", "-1"))))
            .all(),
        "Invalid value -1 for configuration segment.bytes: Value must be at least 1048576");
    assertThat(admin.listTopics().names().get()).doesNotContain("bad");
  }

  @Test
  void validateOnlyCreatesNothing() throws Exception {
    CreateTopicsResult result =
        admin.createTopics(
            List.of(new NewTopic("validated", 1, (short) 1).configs(Map.of("segment.ms", "1000"))),
            new CreateTopicsOptions().validateOnly(true));
    result.all().get();
    assertThat(result.config("validated").get().get("segment.ms").value()).isEqualTo("1000");
    assertInvalidConfig(
        admin
            .createTopics(
                List.of(new NewTopic("validated", 1, (short) 1).configs(Map.of("segment.ms", "0"))),
                new CreateTopicsOptions().validateOnly(true))
            .all(),
        "segment.ms");
    assertThat(admin.listTopics().names().get()).doesNotContain("validated");
  }

  @Test
  void incrementalSetDeleteAppendAndSubtract() throws Exception {
    admin
        .createTopics(
            List.of(new NewTopic("incremental", 1, (short) 1).configs(Map.of("flush.ms", "5"))))
        .all()
        .get();
    ConfigResource r = topic("incremental");
    String throttled = "leader.replication.throttled.replicas";
    alter(
        r,
        new AlterConfigOp(new ConfigEntry("segment.bytes", "2097152"), OpType.SET),
        new AlterConfigOp(new ConfigEntry("flush.ms", null), OpType.DELETE),
        new AlterConfigOp(new ConfigEntry(throttled, "0:1,1:1"), OpType.APPEND));
    Config config = describe("incremental");
    assertThat(config.get("segment.bytes").value()).isEqualTo("2097152");
    assertThat(config.get("flush.ms").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
    assertThat(config.get("flush.ms").value()).isEqualTo(kafkaDefault("flush.ms"));
    assertThat(config.get(throttled).value()).isEqualTo("0:1,1:1");

    // APPEND skips values already there; SUBTRACT removes.
    alter(r, new AlterConfigOp(new ConfigEntry(throttled, "1:1,2:1"), OpType.APPEND));
    assertThat(describe("incremental").get(throttled).value()).isEqualTo("0:1,1:1,2:1");
    alter(r, new AlterConfigOp(new ConfigEntry(throttled, "0:1,2:1"), OpType.SUBTRACT));
    assertThat(describe("incremental").get(throttled).value()).isEqualTo("1:1");

    // APPEND to a list starts from Kafka's default: compact appended to delete.
    alter(r, new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), OpType.APPEND));
    assertThat(describe("incremental").get("cleanup.policy").value()).isEqualTo("delete,compact");
    // APPEND to something that is not a list: Kafka's controller's message.
    assertInvalidConfig(
        admin
            .incrementalAlterConfigs(
                Map.of(
                    r,
                    List.of(
                        new AlterConfigOp(new ConfigEntry("segment.bytes", "1"), OpType.APPEND))))
            .all(),
        "Can't APPEND to key segment.bytes because its type is not LIST.");
    // One bad config fails the whole resource: the good one in the same request is not applied.
    assertInvalidConfig(
        admin
            .incrementalAlterConfigs(
                Map.of(
                    r,
                    List.of(
                        new AlterConfigOp(new ConfigEntry("segment.ms", "1234"), OpType.SET),
                        new AlterConfigOp(new ConfigEntry("no.such.config", "1"), OpType.SET))))
            .all(),
        "no.such.config");
    assertThat(describe("incremental").get("segment.ms").source())
        .isEqualTo(ConfigSource.DEFAULT_CONFIG);

    // validateOnly validates and changes nothing.
    admin
        .incrementalAlterConfigs(
            Map.of(
                r, List.of(new AlterConfigOp(new ConfigEntry("segment.ms", "1234"), OpType.SET))),
            new AlterConfigsOptions().validateOnly(true))
        .all()
        .get();
    assertInvalidConfig(
        admin
            .incrementalAlterConfigs(
                Map.of(
                    r, List.of(new AlterConfigOp(new ConfigEntry("segment.ms", "0"), OpType.SET))),
                new AlterConfigsOptions().validateOnly(true))
            .all(),
        "segment.ms");
    assertThat(describe("incremental").get("segment.ms").source())
        .isEqualTo(ConfigSource.DEFAULT_CONFIG);

    assertThat(
            admin
                .incrementalAlterConfigs(
                    Map.of(
                        topic("no-such-topic"),
                        List.of(
                            new AlterConfigOp(new ConfigEntry("segment.ms", "1234"), OpType.SET))))
                .all())
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableThat()
        .havingRootCause()
        .isInstanceOf(UnknownTopicOrPartitionException.class);
  }

  private void alter(ConfigResource r, AlterConfigOp... ops) throws Exception {
    admin.incrementalAlterConfigs(Map.of(r, List.of(ops))).all().get();
  }

  @Test
  void legacyAlterConfigsReplacesTheWholeSet() throws Exception {
    admin
        .createTopics(
            List.of(
                new NewTopic("legacy", 1, (short) 1)
                    .configs(Map.of("retention.ms", "3600000", "segment.ms", "60000"))))
        .all()
        .get();
    ApiVersionsResponse versions =
        (ApiVersionsResponse)
            RawKafkaClient.send(broker.port(), new ApiVersionsRequest.Builder().build((short) 3));
    assertThat(versions.apiVersion(ApiKeys.ALTER_CONFIGS.id)).isNotNull();
    assertThat(versions.apiVersion(ApiKeys.ALTER_CONFIGS.id).maxVersion()).isEqualTo((short) 2);

    // validateOnly: nothing changes; a bad set is refused as a whole.
    assertThat(legacyAlter(Map.of("min.insync.replicas", "2"), true).errorCode())
        .isEqualTo(Errors.NONE.code());
    var refused = legacyAlter(Map.of("min.insync.replicas", "2", "segment.bytes", "12"), false);
    assertThat(refused.errorCode()).isEqualTo(Errors.INVALID_CONFIG.code());
    assertThat(refused.errorMessage()).contains("segment.bytes");
    Config config = describe("legacy");
    assertThat(config.get("retention.ms").value()).isEqualTo("3600000");
    assertThat(config.get("min.insync.replicas").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);

    // The set in the request becomes the topic's whole set.
    assertThat(legacyAlter(Map.of("min.insync.replicas", "2"), false).errorCode())
        .isEqualTo(Errors.NONE.code());
    config = describe("legacy");
    assertThat(config.get("min.insync.replicas").value()).isEqualTo("2");
    assertThat(config.get("min.insync.replicas").source())
        .isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
    assertThat(config.get("retention.ms").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
    assertThat(config.get("segment.ms").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
  }

  /**
   * The request's own checks fail only the resource they find wrong, in both APIs, and the rest of
   * the request is applied: a resource named twice, a config named twice, a null value, an unknown
   * operation, a topic that does not exist, a resource type whose configs are not ours to alter.
   */
  @Test
  void requestChecksFailOnlyTheResourceTheyFindWrongInBothApis() throws Exception {
    admin.createTopics(List.of(new NewTopic("checked", 1, (short) 1))).all().get();
    IncrementalAlterConfigsRequestData incremental =
        new IncrementalAlterConfigsRequestData().setValidateOnly(false);
    incremental.resources().add(incremental("checked", ConfigResource.Type.TOPIC, "retention.ms"));
    incremental.resources().add(incremental("twice", ConfigResource.Type.TOPIC, "retention.ms"));
    incremental.resources().add(incremental("twice", ConfigResource.Type.TOPIC, "segment.ms"));
    var duplicateKeys = incremental("keys", ConfigResource.Type.TOPIC, "retention.ms");
    duplicateKeys.configs().add(setting("retention.ms", OpType.SET, "2000"));
    incremental.resources().add(duplicateKeys);
    var nullValue = new IncrementalAlterConfigsRequestData.AlterConfigsResource();
    nullValue.setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName("nulls");
    nullValue.configs().add(setting("retention.ms", OpType.SET, null));
    incremental.resources().add(nullValue);
    var unknownOp = new IncrementalAlterConfigsRequestData.AlterConfigsResource();
    unknownOp.setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName("ops");
    unknownOp
        .configs()
        .add(
            new IncrementalAlterConfigsRequestData.AlterableConfig()
                .setName("retention.ms")
                .setConfigOperation((byte) 9)
                .setValue("1"));
    incremental.resources().add(unknownOp);
    incremental.resources().add(incremental("absent", ConfigResource.Type.TOPIC, "retention.ms"));
    incremental.resources().add(incremental("g", ConfigResource.Type.GROUP, "retention.ms"));

    var answers =
        ((IncrementalAlterConfigsResponse)
                RawKafkaClient.send(
                    broker.port(),
                    new IncrementalAlterConfigsRequest.Builder(incremental).build((short) 1)))
            .data()
            .responses();

    assertThat(answers)
        .extracting(r -> r.resourceName() + ":" + Errors.forCode(r.errorCode()))
        .containsExactly(
            "checked:NONE",
            "twice:INVALID_REQUEST",
            "twice:INVALID_REQUEST",
            "keys:INVALID_REQUEST",
            "nulls:INVALID_REQUEST",
            "ops:INVALID_REQUEST",
            "absent:UNKNOWN_TOPIC_OR_PARTITION",
            "g:INVALID_REQUEST");
    assertThat(answers.get(1).errorMessage()).contains("at most once");
    assertThat(answers.get(3).errorMessage()).contains("duplicate config keys");
    assertThat(answers.get(4).errorMessage()).contains("Null value").contains("retention.ms");
    assertThat(answers.get(5).errorMessage()).contains("Unknown operations type 9");
    assertThat(answers.get(7).errorMessage()).contains("only topic configs");
    assertThat(describe("checked").get("retention.ms").value()).isEqualTo("1000");

    // The legacy API: the same checks, and the valid resource's set replaces the topic's.
    AlterConfigsRequestData legacy = new AlterConfigsRequestData().setValidateOnly(false);
    legacy.resources().add(legacy("checked", "segment.ms", "60000"));
    legacy.resources().add(legacy("twice", "segment.ms", "60000"));
    legacy.resources().add(legacy("twice", "segment.ms", "60000"));
    var legacyNull = legacy("nulls", "retention.ms", "1");
    legacyNull.configs().add(legacySetting("segment.ms", null));
    legacy.resources().add(legacyNull);
    var legacyKeys = legacy("keys", "retention.ms", "1");
    legacyKeys.configs().add(legacySetting("retention.ms", "2"));
    legacy.resources().add(legacyKeys);
    legacy.resources().add(legacy("absent", "segment.ms", "60000"));

    var legacyAnswers =
        ((AlterConfigsResponse)
                RawKafkaClient.send(broker.port(), new AlterConfigsRequest(legacy, (short) 2)))
            .data()
            .responses();

    assertThat(legacyAnswers)
        .extracting(r -> r.resourceName() + ":" + Errors.forCode(r.errorCode()))
        .containsExactly(
            "checked:NONE",
            "twice:INVALID_REQUEST",
            "twice:INVALID_REQUEST",
            "nulls:INVALID_REQUEST",
            "keys:INVALID_REQUEST",
            "absent:UNKNOWN_TOPIC_OR_PARTITION");
    assertThat(legacyAnswers.get(3).errorMessage()).contains("Null value").contains("segment.ms");
    assertThat(legacyAnswers.get(4).errorMessage()).contains("duplicate config keys");
    Config checked = describe("checked");
    assertThat(checked.get("segment.ms").value()).isEqualTo("60000");
    assertThat(checked.get("retention.ms").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
  }

  /** A resource setting {@code config} to 1000. */
  private static IncrementalAlterConfigsRequestData.AlterConfigsResource incremental(
      String name, ConfigResource.Type type, String config) {
    var resource =
        new IncrementalAlterConfigsRequestData.AlterConfigsResource()
            .setResourceType(type.id())
            .setResourceName(name);
    resource.configs().add(setting(config, OpType.SET, "1000"));
    return resource;
  }

  private static IncrementalAlterConfigsRequestData.AlterableConfig setting(
      String name, OpType op, String value) {
    return new IncrementalAlterConfigsRequestData.AlterableConfig()
        .setName(name)
        .setConfigOperation(op.id())
        .setValue(value);
  }

  private static AlterConfigsRequestData.AlterConfigsResource legacy(
      String topic, String config, String value) {
    var resource =
        new AlterConfigsRequestData.AlterConfigsResource()
            .setResourceType(ConfigResource.Type.TOPIC.id())
            .setResourceName(topic);
    resource.configs().add(legacySetting(config, value));
    return resource;
  }

  private static AlterConfigsRequestData.AlterableConfig legacySetting(String name, String value) {
    return new AlterConfigsRequestData.AlterableConfig().setName(name).setValue(value);
  }

  private org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse
      legacyAlter(Map<String, String> configs, boolean validateOnly) throws Exception {
    List<AlterConfigsRequest.ConfigEntry> entries = new ArrayList<>();
    configs.forEach((k, v) -> entries.add(new AlterConfigsRequest.ConfigEntry(k, v)));
    AlterConfigsResponse response =
        (AlterConfigsResponse)
            RawKafkaClient.send(
                broker.port(),
                new AlterConfigsRequest.Builder(
                        Map.of(topic("legacy"), new AlterConfigsRequest.Config(entries)),
                        validateOnly)
                    .build((short) 2));
    return response.data().responses().get(0);
  }

  @Test
  void aGzipTopicRecompressesAnUncompressedProducersBatches() throws Exception {
    Uuid id =
        admin
            .createTopics(
                List.of(
                    new NewTopic("gzipped", 1, (short) 1)
                        .configs(Map.of("compression.type", "gzip"))))
            .topicId("gzipped")
            .get();
    admin.createTopics(List.of(new NewTopic("as-produced", 1, (short) 1))).all().get();
    Map<String, Object> p =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            "none",
            ProducerConfig.LINGER_MS_CONFIG,
            "50",
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            StringSerializer.class.getName(),
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      List<Future<?>> sends = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        sends.add(producer.send(new ProducerRecord<>("gzipped", "k" + i, "value-" + i)));
        sends.add(producer.send(new ProducerRecord<>("as-produced", "k" + i, "value-" + i)));
      }
      for (Future<?> f : sends) {
        f.get();
      }
    }
    Uuid plainId =
        admin
            .describeTopics(List.of("as-produced"))
            .allTopicNames()
            .get()
            .get("as-produced")
            .topicId();
    assertThat(codecs(id)).isNotEmpty().containsOnly(CompressionType.GZIP);
    assertThat(codecs(plainId)).isNotEmpty().containsOnly(CompressionType.NONE);

    // A stock consumer reads them back, in order.
    Map<String, Object> c =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class.getName(),
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class.getName());
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      TopicPartition tp = new TopicPartition("gzipped", 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.currentTimeMillis() + 15_000;
      while (values.size() < 20 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) {
          assertThat(rec.offset()).isEqualTo(values.size());
          values.add(rec.value());
        }
      }
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      expected.add("value-" + i);
    }
    assertThat(values).isEqualTo(expected);
  }

  @Test
  void kafkasOwnTopicAndConfigToolsWork() throws Exception {
    String created =
        runTool(
            TopicCommand::main,
            "--bootstrap-server",
            bootstrap,
            "--create",
            "--topic",
            "tooled",
            "--partitions",
            "2",
            "--config",
            "segment.ms=600000",
            "--config",
            "min.insync.replicas=2");
    assertThat(created).contains("Created topic tooled.");
    runTool(
        ConfigCommand::main,
        "--bootstrap-server",
        bootstrap,
        "--entity-type",
        "topics",
        "--entity-name",
        "tooled",
        "--alter",
        "--add-config",
        "segment.bytes=2097152,flush.ms=1000",
        "--delete-config",
        "segment.ms");
    String described =
        runTool(
            ConfigCommand::main,
            "--bootstrap-server",
            bootstrap,
            "--entity-type",
            "topics",
            "--entity-name",
            "tooled",
            "--describe",
            "--all");
    assertThat(described)
        .contains(
            "segment.bytes=2097152 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:segment.bytes=2097152,"
                + " DEFAULT_CONFIG:log.segment.bytes=1073741824}")
        .contains("min.insync.replicas=2 sensitive=false")
        .contains("flush.ms=1000 sensitive=false")
        .contains("segment.ms=604800000 sensitive=false synonyms={}");
    assertThatToolFails(
        ConfigCommand::main,
        "--bootstrap-server",
        bootstrap,
        "--entity-type",
        "topics",
        "--entity-name",
        "tooled",
        "--alter",
        "--add-config",
        "segment.bytes=-1");
    assertThat(describe("tooled").get("segment.bytes").value()).isEqualTo("2097152");
  }

  private static String runTool(KafkaTool.Main main, String... args) {
    return KafkaTool.run(main, args);
  }

  private static void assertThatToolFails(KafkaTool.Main main, String... args) {
    assertThat(
            org.assertj.core.api.Assertions.catchThrowableOfType(
                KafkaTool.Exited.class, () -> runTool(main, args)))
        .isNotNull()
        .satisfies(e -> assertThat(e.code()).isNotZero());
  }

  /** The codec of every stored batch of partition 0, read raw from a Fetch response. */
  private Collection<CompressionType> codecs(Uuid topicId) throws Exception {
    FetchRequestData data =
        new FetchRequestData()
            .setReplicaId(-1)
            .setMaxWaitMs(0)
            .setMinBytes(0)
            .setMaxBytes(1 << 20)
            .setSessionId(0)
            .setSessionEpoch(-1);
    data.topics()
        .add(
            new FetchRequestData.FetchTopic()
                .setTopicId(topicId)
                .setPartitions(
                    List.of(
                        new FetchRequestData.FetchPartition()
                            .setPartition(0)
                            .setFetchOffset(0)
                            .setPartitionMaxBytes(1 << 20))));
    FetchResponse response =
        (FetchResponse) RawKafkaClient.send(broker.port(), new FetchRequest(data, (short) 17));
    FetchResponseData.PartitionData partition =
        response.data().responses().get(0).partitions().get(0);
    assertThat(Errors.forCode(partition.errorCode())).isEqualTo(Errors.NONE);
    List<CompressionType> codecs = new ArrayList<>();
    int records = 0;
    for (RecordBatch batch : ((MemoryRecords) partition.records()).batches()) {
      batch.ensureValid();
      codecs.add(batch.compressionType());
      for (Record ignored : batch) {
        records++;
      }
    }
    assertThat(records).isEqualTo(20);
    return codecs;
  }
}
