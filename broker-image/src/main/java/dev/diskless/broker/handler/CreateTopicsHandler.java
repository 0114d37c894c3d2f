package dev.diskless.broker.handler;

import dev.diskless.storage.StorageException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;

/**
 * Creates topics with validated names and configs and assigns their partitions to live brokers. The
 * replication factor is accepted and reported as 1: durability comes from object storage, not from
 * replicas.
 */
final class CreateTopicsHandler {

  private static final int DEFAULT_PARTITIONS = 1;

  private final BrokerContext broker;

  CreateTopicsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<CreateTopicsResponse> handle(CreateTopicsRequest request) {
    CreateTopicsResponseData data = new CreateTopicsResponseData();
    List<CompletableFuture<CreatableTopicResult>> results = new ArrayList<>();
    boolean validateOnly = request.data().validateOnly();
    for (CreatableTopic topic : request.data().topics()) {
      results.add(create(topic, validateOnly));
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              results.forEach(r -> data.topics().add(r.join()));
              return new CreateTopicsResponse(data);
            });
  }

  private CompletableFuture<CreatableTopicResult> create(
      CreatableTopic topic, boolean validateOnly) {
    CreatableTopicResult result = new CreatableTopicResult().setName(topic.name());
    String invalid = TopicNames.validate(topic.name());
    if (invalid != null) {
      return done(
          result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()).setErrorMessage(invalid));
    }
    int partitions = topic.numPartitions() == -1 ? DEFAULT_PARTITIONS : topic.numPartitions();
    if (partitions < 1) {
      return done(
          result
              .setErrorCode(Errors.INVALID_PARTITIONS.code())
              .setErrorMessage("number of partitions must be >= 1"));
    }
    if (!topic.assignments().isEmpty()) {
      return done(
          result
              .setErrorCode(Errors.INVALID_REQUEST.code())
              .setErrorMessage(
                  "manual replica assignment is not supported: partitions are assigned to live brokers"));
    }
    Map<String, String> configs = new HashMap<>();
    for (CreatableTopicConfig c : topic.configs()) {
      String problem = TopicConfigs.validate(c.name(), c.value());
      if (problem != null) {
        return done(result.setErrorCode(Errors.INVALID_CONFIG.code()).setErrorMessage(problem));
      }
      configs.put(c.name(), c.value());
    }
    if (broker.view().current().topic(topic.name()).isPresent()) {
      return done(
          result
              .setErrorCode(Errors.TOPIC_ALREADY_EXISTS.code())
              .setErrorMessage("topic " + topic.name() + " already exists"));
    }
    if (validateOnly) {
      return done(result.setNumPartitions(partitions).setReplicationFactor((short) 1));
    }
    return broker
        .topics()
        .create(topic.name(), partitions, configs)
        .thenCompose(info -> broker.assigner().assign(info).thenApply(v -> info))
        .thenApply(
            info ->
                result
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
                      && se.getMessage().contains("already exists");
              return result
                  .setErrorCode(
                      (exists ? Errors.TOPIC_ALREADY_EXISTS : Errors.KAFKA_STORAGE_ERROR).code())
                  .setErrorMessage(cause.getMessage());
            });
  }

  private static CompletableFuture<CreatableTopicResult> done(CreatableTopicResult r) {
    return CompletableFuture.completedFuture(r);
  }
}
