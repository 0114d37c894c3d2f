package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;

/**
 * A topic's configs: every config this broker implements, with its value and whether it was set on
 * the topic or is the default. Broker resources have no dynamic configs: they are set through the
 * cluster resource.
 */
final class DescribeConfigsHandler {

  private static final byte SOURCE_TOPIC = 1;
  private static final byte SOURCE_DEFAULT = 5;

  private final BrokerContext broker;

  DescribeConfigsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<DescribeConfigsResponse> handle(DescribeConfigsRequest request) {
    DescribeConfigsResponseData data = new DescribeConfigsResponseData();
    for (DescribeConfigsResource resource : request.data().resources()) {
      DescribeConfigsResult result =
          new DescribeConfigsResult()
              .setResourceType(resource.resourceType())
              .setResourceName(resource.resourceName());
      data.results().add(result);
      ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
      if (type == ConfigResource.Type.BROKER || type == ConfigResource.Type.BROKER_LOGGER) {
        continue;
      }
      if (type != ConfigResource.Type.TOPIC) {
        result
            .setErrorCode(Errors.INVALID_REQUEST.code())
            .setErrorMessage("unsupported resource type " + type);
        continue;
      }
      Optional<TopicInfo> topic = broker.view().current().topic(resource.resourceName());
      if (topic.isEmpty()) {
        result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        continue;
      }
      List<String> keys = resource.configurationKeys();
      Map<String, String> explicit = topic.get().configs();
      for (var e : new TreeMap<>(TopicConfigs.DEFAULTS).entrySet()) {
        if (keys != null && !keys.isEmpty() && !keys.contains(e.getKey())) {
          continue;
        }
        boolean set = explicit.containsKey(e.getKey());
        result
            .configs()
            .add(
                new DescribeConfigsResourceResult()
                    .setName(e.getKey())
                    .setValue(set ? explicit.get(e.getKey()) : e.getValue())
                    .setReadOnly(false)
                    .setConfigSource(set ? SOURCE_TOPIC : SOURCE_DEFAULT)
                    .setIsSensitive(false));
      }
    }
    return CompletableFuture.completedFuture(new DescribeConfigsResponse(data));
  }
}
