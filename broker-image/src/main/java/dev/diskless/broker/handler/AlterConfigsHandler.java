package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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
 * BROKER resource only the replication throttles may be set ({@link BrokerConfigUpdates}). The
 * steps both AlterConfigs APIs share are {@link ConfigAlterations}'.
 */
final class AlterConfigsHandler {

  private final ConfigAlterations alterations;

  AlterConfigsHandler(BrokerContext broker) {
    this.alterations = new ConfigAlterations(broker);
  }

  CompletableFuture<AlterConfigsResponse> handle(
      RequestContext context, AlterConfigsRequest request) {
    List<AlterConfigsResource> resources = List.copyOf(request.data().resources());
    return alterations
        .alter(
            context,
            resources.stream().map(AlterConfigsHandler::resource).toList(),
            request.data().validateOnly())
        .thenApply(
            outcomes -> {
              AlterConfigsResponseData data = new AlterConfigsResponseData();
              for (int i = 0; i < resources.size(); i++) {
                ApiError outcome = outcomes.get(i);
                data.responses()
                    .add(
                        new AlterConfigsResourceResponse()
                            .setResourceType(resources.get(i).resourceType())
                            .setResourceName(resources.get(i).resourceName())
                            .setErrorCode(outcome.error().code())
                            .setErrorMessage(outcome.message()));
              }
              return new AlterConfigsResponse(data);
            });
  }

  /** The resource's configs replace the current ones whole. */
  private static ConfigAlterations.Resource resource(AlterConfigsResource resource) {
    Map<String, String> configs = new HashMap<>();
    resource.configs().forEach(c -> configs.put(c.name(), c.value()));
    return new ConfigAlterations.Resource(
        resource.resourceType(),
        resource.resourceName(),
        malformed(resource),
        (brokers, name, validateOnly) -> brokers.replace(name, configs, validateOnly),
        current -> configs);
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
}
