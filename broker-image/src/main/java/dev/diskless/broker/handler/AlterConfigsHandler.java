package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.AlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.AlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.AlterConfigsResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.RequestContext;

/**
 * The legacy AlterConfigs API: a topic's configs become exactly the set in the request, every
 * config not named returning to its default, as Kafka's controller does ({@code
 * ConfigurationControlManager.legacyAlterConfigResource}). Request checks are Kafka's ({@code
 * ConfigAdminManager.preprocess}): a resource named twice, a config named twice or a null value is
 * INVALID_REQUEST; the new set is validated as a whole ({@link TopicConfigUpdates}), so an invalid
 * set answers INVALID_CONFIG and changes nothing. validateOnly validates and writes nothing. On a
 * BROKER resource only the replication throttles may be set ({@link BrokerConfigUpdates}).
 */
final class AlterConfigsHandler {

  private final BrokerContext broker;
  private final TopicConfigUpdates updates;
  private final BrokerConfigUpdates brokerConfigs;

  AlterConfigsHandler(BrokerContext broker) {
    this.broker = broker;
    this.updates = new TopicConfigUpdates(broker);
    this.brokerConfigs = new BrokerConfigUpdates(broker.brokerConfigs());
  }

  CompletableFuture<AlterConfigsResponse> handle(
      RequestContext context, AlterConfigsRequest request) {
    AlterConfigsResponseData data = new AlterConfigsResponseData();
    boolean validateOnly = request.data().validateOnly();
    Map<String, Integer> seen = new HashMap<>();
    request
        .data()
        .resources()
        .forEach(r -> seen.merge(r.resourceType() + "/" + r.resourceName(), 1, Integer::sum));
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (AlterConfigsResource resource : request.data().resources()) {
      AlterConfigsResourceResponse r =
          new AlterConfigsResourceResponse()
              .setResourceType(resource.resourceType())
              .setResourceName(resource.resourceName());
      data.responses().add(r);
      if (seen.get(resource.resourceType() + "/" + resource.resourceName()) > 1) {
        set(r, new ApiError(Errors.INVALID_REQUEST, "Each resource must appear at most once."));
        continue;
      }
      ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
      Errors refused =
          broker
              .access()
              .configs(context, AclOperation.ALTER_CONFIGS, type, resource.resourceName());
      if (refused != Errors.NONE) {
        set(r, new ApiError(refused, refused.message()));
        continue;
      }
      if (type != ConfigResource.Type.TOPIC && type != ConfigResource.Type.BROKER) {
        set(
            r,
            new ApiError(
                Errors.INVALID_REQUEST,
                "only topic configs and broker replication throttles can be altered; broker"
                    + " settings come from the DisklessKafkaCluster resource"));
        continue;
      }
      Optional<ApiError> malformed = malformed(resource);
      if (malformed.isPresent()) {
        set(r, malformed.get());
        continue;
      }
      if (type == ConfigResource.Type.BROKER) {
        Map<String, String> configs = new HashMap<>();
        resource.configs().forEach(c -> configs.put(c.name(), c.value()));
        all.add(
            brokerConfigs
                .replace(resource.resourceName(), configs, validateOnly)
                .thenAccept(error -> set(r, error)));
        continue;
      }
      Optional<TopicInfo> topic = broker.view().current().topic(resource.resourceName());
      if (topic.isEmpty()) {
        set(r, new ApiError(Errors.UNKNOWN_TOPIC_OR_PARTITION, null));
        continue;
      }
      Map<String, String> replacement = new HashMap<>();
      resource.configs().forEach(c -> replacement.put(c.name(), c.value()));
      all.add(
          updates
              .update(topic.get(), current -> replacement, validateOnly)
              .thenAccept(error -> set(r, error)));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenCompose(
            v ->
                validateOnly
                    ? CompletableFuture.completedFuture(null)
                    : broker.view().refresh().thenApply(s -> null))
        .thenApply(v -> new AlterConfigsResponse(data));
  }

  private static Optional<ApiError> malformed(AlterConfigsResource resource) {
    Set<String> names = new HashSet<>();
    List<String> nullValues = new ArrayList<>();
    for (AlterableConfig c : resource.configs()) {
      if (!names.add(c.name())) {
        return Optional.of(
            new ApiError(Errors.INVALID_REQUEST, "Error due to duplicate config keys"));
      }
      if (c.value() == null) {
        nullValues.add(c.name());
      }
    }
    if (!nullValues.isEmpty()) {
      return Optional.of(
          new ApiError(
              Errors.INVALID_REQUEST,
              "Null value not supported for : " + String.join(", ", nullValues)));
    }
    return Optional.empty();
  }

  private static void set(AlterConfigsResourceResponse r, ApiError error) {
    r.setErrorCode(error.error().code()).setErrorMessage(error.message());
  }
}
