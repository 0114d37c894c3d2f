package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.topicconfig.TopicConfigDescriber;
import dev.diskless.broker.topicconfig.TopicConfigValidator;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Creates topics with validated names and configs (every Kafka 4.4 topic config, checked with
 * Kafka's own definitions by {@link TopicConfigValidator}) and assigns their partitions to live
 * brokers. The replication factor is accepted and reported as 1: durability comes from object
 * storage, not from replicas. Partition counts over the broker's {@link
 * dev.diskless.storage.metadata.PartitionLimits} answer POLICY_VIOLATION before anything is built,
 * as Kafka's controller answers a request that would create too many partitions.
 */
final class CreateTopicsHandler {

  private static final int DEFAULT_PARTITIONS = 1;

  private final BrokerContext broker;
  private final TopicConfigValidator validator = new TopicConfigValidator();
  private final TopicConfigDescriber describer = new TopicConfigDescriber();

  CreateTopicsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<CreateTopicsResponse> handle(
      RequestContext context, CreateTopicsRequest request) {
    CreateTopicsResponseData data = new CreateTopicsResponseData();
    boolean validateOnly = request.data().validateOnly();
    ClusterView.Snapshot snapshot = broker.view().current();
    List<CreatableTopic> topics = new ArrayList<>(request.data().topics());
    List<String> names = topics.stream().map(CreatableTopic::name).toList();
    Access access = broker.access();
    // As Kafka's controller: CREATE on the cluster, else on each topic; the created topic's
    // configs are shown only with DESCRIBE_CONFIGS on it.
    Set<String> creatable =
        access.cluster(context, AclOperation.CREATE, false)
            ? new HashSet<>(names)
            : access.allowedNames(context, AclOperation.CREATE, ResourceType.TOPIC, names);
    Set<String> describable =
        access.allowedNames(context, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, names);
    List<CreatableTopicResult> refused = new ArrayList<>();
    long adding = 0;
    for (CreatableTopic topic : topics) {
      CreatableTopicResult problem =
          creatable.contains(topic.name())
              ? validate(topic, snapshot)
              : new CreatableTopicResult()
                  .setName(topic.name())
                  .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                  .setErrorMessage("Authorization failed.");
      refused.add(problem);
      if (problem == null) {
        adding += partitions(topic);
      }
    }
    // The whole request is refused, as Kafka's controller refuses one that would create too many
    // partitions: checked before anything is built, so even absurd counts answer at once.
    Optional<String> full =
        broker.partitionLimits().checkCluster(totalPartitions(snapshot), adding);
    List<CompletableFuture<CreatableTopicResult>> results = new ArrayList<>();
    for (int i = 0; i < topics.size(); i++) {
      CreatableTopic topic = topics.get(i);
      CreatableTopicResult problem = refused.get(i);
      if (problem != null) {
        results.add(done(problem));
      } else if (full.isPresent()) {
        results.add(
            done(
                new CreatableTopicResult()
                    .setName(topic.name())
                    .setErrorCode(Errors.POLICY_VIOLATION.code())
                    .setErrorMessage(full.get())));
      } else {
        results.add(create(topic, validateOnly));
      }
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              for (var future : results) {
                CreatableTopicResult r = future.join();
                if (!describable.contains(r.name()) && r.errorCode() == Errors.NONE.code()) {
                  r.configs().clear();
                  if (request.version() >= 5) {
                    r.setTopicConfigErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                  }
                }
                data.topics().add(r);
              }
              return new CreateTopicsResponse(data);
            });
  }

  static long totalPartitions(ClusterView.Snapshot snapshot) {
    return snapshot.topicsByName().values().stream().mapToLong(TopicInfo::partitionCount).sum();
  }

  private static int partitions(CreatableTopic topic) {
    return topic.numPartitions() == -1 ? DEFAULT_PARTITIONS : topic.numPartitions();
  }

  /** The result refusing {@code topic}, or null if it may be created. */
  private CreatableTopicResult validate(CreatableTopic topic, ClusterView.Snapshot snapshot) {
    CreatableTopicResult result = new CreatableTopicResult().setName(topic.name());
    String invalid = TopicNames.validate(topic.name());
    if (invalid != null) {
      return result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()).setErrorMessage(invalid);
    }
    int partitions = partitions(topic);
    if (partitions < 1) {
      return result
          .setErrorCode(Errors.INVALID_PARTITIONS.code())
          .setErrorMessage("number of partitions must be >= 1");
    }
    Optional<String> tooMany = broker.partitionLimits().checkTopic(topic.name(), partitions);
    if (tooMany.isPresent()) {
      return result.setErrorCode(Errors.POLICY_VIOLATION.code()).setErrorMessage(tooMany.get());
    }
    if (!topic.assignments().isEmpty()) {
      return result
          .setErrorCode(Errors.INVALID_REQUEST.code())
          .setErrorMessage(
              "manual replica assignment is not supported: partitions are assigned to live brokers");
    }
    try {
      validator.validate(configs(topic), Map.of());
    } catch (InvalidConfigurationException e) {
      return result.setErrorCode(Errors.INVALID_CONFIG.code()).setErrorMessage(e.getMessage());
    }
    if (snapshot.topic(topic.name()).isPresent()) {
      return result
          .setErrorCode(Errors.TOPIC_ALREADY_EXISTS.code())
          .setErrorMessage("topic " + topic.name() + " already exists");
    }
    return null;
  }

  private CompletableFuture<CreatableTopicResult> create(
      CreatableTopic topic, boolean validateOnly) {
    CreatableTopicResult result = new CreatableTopicResult().setName(topic.name());
    int partitions = partitions(topic);
    Map<String, String> configs = configs(topic);
    if (validateOnly) {
      return done(
          withConfigs(result, configs)
              .setNumPartitions(partitions)
              .setReplicationFactor((short) 1));
    }
    return broker
        .topics()
        .create(topic.name(), partitions, configs, broker.partitionLimits())
        .thenCompose(info -> broker.assigner().assign(info).thenApply(v -> info))
        .thenApply(
            info ->
                withConfigs(result, configs)
                    .setTopicId(
                        new Uuid(
                            info.topicId().getMostSignificantBits(),
                            info.topicId().getLeastSignificantBits()))
                    .setNumPartitions(partitions)
                    .setReplicationFactor((short) 1))
        .exceptionally(
            t -> {
              Throwable cause = StorageException.unwrap(t);
              boolean exists =
                  cause instanceof StorageException se
                      && se.kind() == StorageException.Kind.INVALID_REQUEST
                      && se.getMessage().contains("already exists");
              return result
                  .setErrorCode((exists ? Errors.TOPIC_ALREADY_EXISTS : ErrorCodes.of(t)).code())
                  .setErrorMessage(cause.getMessage());
            });
  }

  /** As Kafka's controller: a created (or validated) topic's result shows its effective configs. */
  private CreatableTopicResult withConfigs(
      CreatableTopicResult result, Map<String, String> configs) {
    for (TopicConfigDescriber.Entry e : describer.describe(configs, null, false, false)) {
      result
          .configs()
          .add(
              new CreatableTopicConfigs()
                  .setName(e.name())
                  .setValue(e.value())
                  .setReadOnly(false)
                  .setConfigSource(e.source().id())
                  .setIsSensitive(e.sensitive()));
    }
    return result;
  }

  /** The configs a request sets; a name given twice takes its last value, as in Kafka. */
  private static Map<String, String> configs(CreatableTopic topic) {
    Map<String, String> configs = new HashMap<>();
    for (CreatableTopicConfig c : topic.configs()) {
      configs.put(c.name(), c.value());
    }
    return configs;
  }

  private static CompletableFuture<CreatableTopicResult> done(CreatableTopicResult r) {
    return CompletableFuture.completedFuture(r);
  }
}
