package dev.diskless.broker.handler;

import dev.diskless.broker.topicconfig.TopicConfigChanges;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;
import org.apache.kafka.common.requests.RequestContext;

/**
 * Applies SET, DELETE, APPEND and SUBTRACT to topic configs as Kafka's broker and controller do
 * ({@code ConfigAdminManager.preprocess}, then {@code ConfigurationControlManager}): a resource
 * named twice, a config named twice in one resource or a null value for anything but DELETE is
 * INVALID_REQUEST; the topic's resulting configs are validated as a whole with Kafka's definitions
 * ({@link TopicConfigUpdates}), so one bad config fails its resource with INVALID_CONFIG and
 * nothing of that resource changes. validateOnly validates the same way and writes nothing. On a
 * BROKER resource only the replication throttles may change ({@link BrokerConfigUpdates}). The
 * steps both AlterConfigs APIs share are {@link ConfigAlterations}'.
 */
final class IncrementalAlterConfigsHandler {

  private final ConfigAlterations alterations;
  private final TopicConfigChanges changes = new TopicConfigChanges();

  IncrementalAlterConfigsHandler(BrokerContext broker) {
    this.alterations = new ConfigAlterations(broker);
  }

  CompletableFuture<IncrementalAlterConfigsResponse> handle(
      RequestContext context, IncrementalAlterConfigsRequest request) {
    List<AlterConfigsResource> resources = List.copyOf(request.data().resources());
    return alterations
        .alter(
            context, resources.stream().map(this::resource).toList(), request.data().validateOnly())
        .thenApply(
            outcomes -> {
              IncrementalAlterConfigsResponseData data = new IncrementalAlterConfigsResponseData();
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
              return new IncrementalAlterConfigsResponse(data);
            });
  }

  /**
   * The resource's operations, applied to the current configs. Read only once {@link #malformed}
   * found none with an unknown operation.
   */
  private ConfigAlterations.Resource resource(AlterConfigsResource resource) {
    return new ConfigAlterations.Resource(
        resource.resourceType(),
        resource.resourceName(),
        malformed(resource),
        (brokers, name, validateOnly) ->
            brokers.incremental(
                name,
                resource.configs().stream()
                    .map(
                        c ->
                            new BrokerConfigUpdates.Change(
                                c.name(),
                                AlterConfigOp.OpType.forId(c.configOperation()),
                                c.value()))
                    .toList(),
                validateOnly),
        current ->
            changes.apply(
                current,
                resource.configs().stream()
                    .map(
                        c ->
                            new TopicConfigChanges.Operation(
                                c.name(),
                                AlterConfigOp.OpType.forId(c.configOperation()),
                                c.value()))
                    .toList()));
  }

  /** As {@code ConfigAdminManager.preprocess}: checks of the request itself. */
  private static Optional<ApiError> malformed(AlterConfigsResource resource) {
    Set<String> names = new HashSet<>();
    List<String> nullValues = new ArrayList<>();
    for (AlterableConfig c : resource.configs()) {
      if (!names.add(c.name())) {
        return Optional.of(
            new ApiError(Errors.INVALID_REQUEST, "Error due to duplicate config keys"));
      }
      AlterConfigOp.OpType op;
      try {
        op = AlterConfigOp.OpType.forId(c.configOperation());
      } catch (IllegalArgumentException e) {
        op = null;
      }
      if (op == null) {
        return Optional.of(
            new ApiError(Errors.INVALID_REQUEST, "Unknown operations type " + c.configOperation()));
      }
      if (op != AlterConfigOp.OpType.DELETE && c.value() == null) {
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
