package dev.diskless.broker.handler;

import dev.diskless.broker.topicconfig.TopicConfigChanges;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
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
 * BROKER resource only the replication throttles may change ({@link BrokerConfigUpdates}).
 */
final class IncrementalAlterConfigsHandler {

  private final BrokerContext broker;
  private final TopicConfigUpdates updates;
  private final TopicConfigChanges changes = new TopicConfigChanges();
  private final BrokerConfigUpdates brokerConfigs;

  IncrementalAlterConfigsHandler(BrokerContext broker) {
    this.broker = broker;
    this.updates = new TopicConfigUpdates(broker);
    this.brokerConfigs = new BrokerConfigUpdates(broker.brokerConfigs());
  }

  CompletableFuture<IncrementalAlterConfigsResponse> handle(
      RequestContext context, IncrementalAlterConfigsRequest request) {
    IncrementalAlterConfigsResponseData data = new IncrementalAlterConfigsResponseData();
    boolean validateOnly = request.data().validateOnly();
    Set<String> repeated = repeatedResources(request);
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (AlterConfigsResource resource : request.data().resources()) {
      AlterConfigsResourceResponse r =
          new AlterConfigsResourceResponse()
              .setResourceType(resource.resourceType())
              .setResourceName(resource.resourceName());
      data.responses().add(r);
      if (repeated.contains(resource.resourceType() + "/" + resource.resourceName())) {
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
        List<BrokerConfigUpdates.Change> brokerChanges = new ArrayList<>();
        for (AlterableConfig c : resource.configs()) {
          brokerChanges.add(
              new BrokerConfigUpdates.Change(
                  c.name(), AlterConfigOp.OpType.forId(c.configOperation()), c.value()));
        }
        all.add(
            brokerConfigs
                .incremental(resource.resourceName(), brokerChanges, validateOnly)
                .thenAccept(error -> set(r, error)));
        continue;
      }
      Optional<TopicInfo> topic = broker.view().current().topic(resource.resourceName());
      if (topic.isEmpty()) {
        set(r, new ApiError(Errors.UNKNOWN_TOPIC_OR_PARTITION, null));
        continue;
      }
      List<TopicConfigChanges.Operation> ops = new ArrayList<>();
      for (AlterableConfig c : resource.configs()) {
        ops.add(
            new TopicConfigChanges.Operation(
                c.name(), AlterConfigOp.OpType.forId(c.configOperation()), c.value()));
      }
      all.add(
          updates
              .update(topic.get(), current -> changes.apply(current, ops), validateOnly)
              .thenAccept(error -> set(r, error)));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenCompose(v -> validateOnly ? CompletableFuture.completedFuture(null) : refresh())
        .thenApply(s -> new IncrementalAlterConfigsResponse(data));
  }

  private CompletableFuture<?> refresh() {
    return broker.view().refresh();
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

  private static Set<String> repeatedResources(IncrementalAlterConfigsRequest request) {
    Map<String, Integer> seen = new HashMap<>();
    request
        .data()
        .resources()
        .forEach(r -> seen.merge(r.resourceType() + "/" + r.resourceName(), 1, Integer::sum));
    Set<String> repeated = new HashSet<>();
    seen.forEach(
        (k, n) -> {
          if (n > 1) {
            repeated.add(k);
          }
        });
    return repeated;
  }

  private static void set(AlterConfigsResourceResponse r, ApiError error) {
    r.setErrorCode(error.error().code()).setErrorMessage(error.message());
  }
}
