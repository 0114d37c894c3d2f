package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;

/**
 * Sets and deletes topic configs, validated first: one invalid config fails its resource with
 * INVALID_CONFIG and a message naming it, and nothing of that resource changes. APPEND and SUBTRACT
 * apply to list configs, which no supported config is.
 */
final class IncrementalAlterConfigsHandler {

  private final BrokerContext broker;

  IncrementalAlterConfigsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<IncrementalAlterConfigsResponse> handle(
      IncrementalAlterConfigsRequest request) {
    IncrementalAlterConfigsResponseData data = new IncrementalAlterConfigsResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (AlterConfigsResource resource : request.data().resources()) {
      AlterConfigsResourceResponse r =
          new AlterConfigsResourceResponse()
              .setResourceType(resource.resourceType())
              .setResourceName(resource.resourceName());
      data.responses().add(r);
      if (ConfigResource.Type.forId(resource.resourceType()) != ConfigResource.Type.TOPIC) {
        r.setErrorCode(Errors.INVALID_REQUEST.code())
            .setErrorMessage(
                "only topic configs can be altered; broker configs come from the DisklessKafkaCluster resource");
        continue;
      }
      Optional<TopicInfo> topic = broker.view().current().topic(resource.resourceName());
      if (topic.isEmpty()) {
        r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        continue;
      }
      Map<String, String> set = new HashMap<>();
      List<String> remove = new ArrayList<>();
      String problem = null;
      for (AlterableConfig c : resource.configs()) {
        AlterConfigOp.OpType op = AlterConfigOp.OpType.forId(c.configOperation());
        if (op == AlterConfigOp.OpType.SET) {
          problem = TopicConfigs.validate(c.name(), c.value());
          set.put(c.name(), c.value());
        } else if (op == AlterConfigOp.OpType.DELETE) {
          problem =
              TopicConfigs.SUPPORTED.contains(c.name())
                  ? null
                  : "config " + c.name() + " is not supported";
          remove.add(c.name());
        } else {
          problem = op + " applies to list configs; " + c.name() + " is not one";
        }
        if (problem != null) {
          break;
        }
      }
      if (problem != null) {
        r.setErrorCode(Errors.INVALID_CONFIG.code()).setErrorMessage(problem);
        continue;
      }
      if (request.data().validateOnly()) {
        continue;
      }
      all.add(
          broker
              .topics()
              .alterConfigs(topic.get().topicId(), set, remove)
              .handle(
                  (v, e) -> {
                    if (e != null) {
                      r.setErrorCode(ErrorCodes.of(e).code());
                    }
                    return null;
                  }));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenCompose(v -> broker.view().refresh())
        .thenApply(s -> new IncrementalAlterConfigsResponse(data));
  }
}
