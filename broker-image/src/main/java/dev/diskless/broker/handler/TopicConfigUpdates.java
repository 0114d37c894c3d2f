package dev.diskless.broker.handler;

import dev.diskless.broker.topicconfig.TopicConfigValidator;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes one topic's configs for IncrementalAlterConfigs and AlterConfigs: the change is applied
 * to the topic's current configs as stored (not the possibly stale cluster view) and the whole
 * result is validated as Kafka's controller does; with validateOnly nothing is written, otherwise
 * the read, the check and the write are one transaction that locks the topic. Answers the error of
 * the resource: NONE, INVALID_CONFIG with Kafka's message, UNKNOWN_TOPIC_OR_PARTITION for a topic
 * deleted meanwhile, or the storage error.
 */
final class TopicConfigUpdates {

  private static final Logger LOG = LoggerFactory.getLogger(TopicConfigUpdates.class);

  private final BrokerContext broker;
  private final TopicConfigValidator validator = new TopicConfigValidator();

  TopicConfigUpdates(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<ApiError> update(
      TopicInfo topic, UnaryOperator<Map<String, String>> change, boolean validateOnly) {
    UnaryOperator<Map<String, String>> checked =
        current -> {
          Map<String, String> next = change.apply(current);
          validator.validate(next, current);
          return next;
        };
    CompletableFuture<?> done =
        validateOnly
            ? broker
                .topics()
                .byId(topic.topicId())
                .thenApply(
                    t ->
                        checked.apply(
                            t.orElseThrow(
                                    () ->
                                        new StorageException(
                                            StorageException.Kind.INVALID_REQUEST,
                                            "topic " + topic.name() + " does not exist"))
                                .configs()))
            : broker
                .topics()
                .updateConfigs(topic.topicId(), checked)
                .thenApply(
                    next -> {
                      LOG.info("topic={} configs are now {}", topic.name(), next);
                      return next;
                    });
    return done.handle(
        (v, t) -> {
          if (t == null) {
            return ApiError.NONE;
          }
          Throwable cause = StorageException.unwrap(t);
          if (cause instanceof StorageException se
              && se.kind() == StorageException.Kind.INVALID_REQUEST
              && se.getMessage().contains("does not exist")) {
            return new ApiError(Errors.UNKNOWN_TOPIC_OR_PARTITION, cause.getMessage());
          }
          return new ApiError(ErrorCodes.of(cause), cause.getMessage());
        });
  }
}
