package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.RequestContext;

/**
 * What AlterConfigs and IncrementalAlterConfigs do alike, resource by resource and in Kafka's order
 * ({@code ConfigAdminManager.preprocess}, then the controller): a resource named twice in the
 * request is INVALID_REQUEST, then the ALTER_CONFIGS check, then only TOPIC and BROKER resources
 * pass, then the request's own checks of the resource's configs, then the change: a BROKER
 * resource's to the replication throttles ({@link BrokerConfigUpdates}), a topic's to its configs,
 * validated as a whole ({@link TopicConfigUpdates}). The two APIs differ only in how a resource's
 * configs become the change ({@link Resource}).
 */
final class ConfigAlterations {

  private final BrokerContext broker;
  private final TopicConfigUpdates topics;
  private final BrokerConfigUpdates brokers;

  ConfigAlterations(BrokerContext broker) {
    this.broker = broker;
    this.topics = new TopicConfigUpdates(broker);
    this.brokers = new BrokerConfigUpdates(broker.brokerConfigs());
  }

  /** A BROKER resource's change, as one API reads it. */
  interface BrokerChange {
    CompletableFuture<ApiError> apply(
        BrokerConfigUpdates brokers, String resource, boolean validateOnly);
  }

  /**
   * One resource of a request: {@code malformed} is the request's own complaint about its configs,
   * if any; {@code onBroker} and {@code onTopic} its change for either kind of resource (a topic's
   * from its current configs to the new ones).
   */
  record Resource(
      byte type,
      String name,
      Optional<ApiError> malformed,
      BrokerChange onBroker,
      UnaryOperator<Map<String, String>> onTopic) {}

  /**
   * Each resource's outcome, in the request's order, once every change is written and, unless
   * {@code validateOnly}, this broker's view of the topics has read them back.
   */
  CompletableFuture<List<ApiError>> alter(
      RequestContext context, List<Resource> resources, boolean validateOnly) {
    Map<String, Integer> named = new HashMap<>();
    resources.forEach(r -> named.merge(r.type() + "/" + r.name(), 1, Integer::sum));
    List<CompletableFuture<ApiError>> outcomes = new ArrayList<>();
    for (Resource r : resources) {
      outcomes.add(
          named.get(r.type() + "/" + r.name()) > 1
              ? done(
                  new ApiError(Errors.INVALID_REQUEST, "Each resource must appear at most once."))
              : alter(context, r, validateOnly));
    }
    return CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
        .thenCompose(
            v ->
                validateOnly
                    ? CompletableFuture.completedFuture(null)
                    : broker.view().refresh().thenApply(s -> null))
        .thenApply(v -> outcomes.stream().map(CompletableFuture::join).toList());
  }

  private CompletableFuture<ApiError> alter(
      RequestContext context, Resource r, boolean validateOnly) {
    ConfigResource.Type type = ConfigResource.Type.forId(r.type());
    Errors refused = broker.access().configs(context, AclOperation.ALTER_CONFIGS, type, r.name());
    if (refused != Errors.NONE) {
      return done(new ApiError(refused, refused.message()));
    }
    if (type != ConfigResource.Type.TOPIC && type != ConfigResource.Type.BROKER) {
      return done(
          new ApiError(
              Errors.INVALID_REQUEST,
              "only topic configs and broker replication throttles can be altered; broker"
                  + " settings come from the DisklessKafkaCluster resource"));
    }
    if (r.malformed().isPresent()) {
      return done(r.malformed().get());
    }
    if (type == ConfigResource.Type.BROKER) {
      return r.onBroker().apply(brokers, r.name(), validateOnly);
    }
    Optional<TopicInfo> topic = broker.view().current().topic(r.name());
    if (topic.isEmpty()) {
      return done(new ApiError(Errors.UNKNOWN_TOPIC_OR_PARTITION, null));
    }
    return topics.update(topic.get(), r.onTopic(), validateOnly);
  }

  private static CompletableFuture<ApiError> done(ApiError error) {
    return CompletableFuture.completedFuture(error);
  }
}
