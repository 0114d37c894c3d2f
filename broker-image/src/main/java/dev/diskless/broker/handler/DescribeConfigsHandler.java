package dev.diskless.broker.handler;

import dev.diskless.broker.topicconfig.TopicConfigDescriber;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.RequestContext;

/**
 * A topic's configs as Kafka reports them ({@link TopicConfigDescriber}): every Kafka 4.4 topic
 * config with its value, source (DYNAMIC_TOPIC_CONFIG or DEFAULT_CONFIG), type, and on request
 * synonyms and documentation. A broker resource reports the replication throttles ({@link
 * BrokerConfigUpdates}); its other settings come from the cluster resource.
 */
final class DescribeConfigsHandler {

  private final TopicConfigDescriber describer = new TopicConfigDescriber();
  private final BrokerContext broker;
  private final BrokerConfigUpdates brokerConfigs;

  DescribeConfigsHandler(BrokerContext broker) {
    this.broker = broker;
    this.brokerConfigs =
        new BrokerConfigUpdates(broker.brokerConfigs(), broker.nodeId(), broker.staticSettings());
  }

  CompletableFuture<DescribeConfigsResponse> handle(
      RequestContext context, DescribeConfigsRequest request) {
    DescribeConfigsResponseData data = new DescribeConfigsResponseData();
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (DescribeConfigsResource resource : request.data().resources()) {
      DescribeConfigsResult result =
          new DescribeConfigsResult()
              .setResourceType(resource.resourceType())
              .setResourceName(resource.resourceName());
      data.results().add(result);
      ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
      Errors refused =
          broker
              .access()
              .configs(context, AclOperation.DESCRIBE_CONFIGS, type, resource.resourceName());
      if (refused != Errors.NONE) {
        result.setErrorCode(refused.code()).setErrorMessage(refused.message());
        continue;
      }
      if (type == ConfigResource.Type.BROKER) {
        pending.add(
            brokerConfigs
                .describe(
                    resource.resourceName(),
                    resource.configurationKeys(),
                    request.data().includeSynonyms(),
                    request.data().includeDocumentation())
                .thenAccept(
                    configs -> {
                      if (configs.isEmpty()) {
                        BrokerConfigUpdates.badResource(resource.resourceName())
                            .ifPresent(
                                e ->
                                    result
                                        .setErrorCode(e.error().code())
                                        .setErrorMessage(e.message()));
                      } else {
                        result.setConfigs(configs.get());
                      }
                    }));
        continue;
      }
      if (type == ConfigResource.Type.BROKER_LOGGER) {
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
      for (TopicConfigDescriber.Entry e :
          describer.describe(
              topic.get().configs(),
              resource.configurationKeys(),
              request.data().includeSynonyms(),
              request.data().includeDocumentation())) {
        DescribeConfigsResourceResult entry =
            new DescribeConfigsResourceResult()
                .setName(e.name())
                .setValue(e.value())
                .setReadOnly(false)
                .setConfigSource(e.source().id())
                .setIsSensitive(e.sensitive())
                .setConfigType(e.type().id())
                .setDocumentation(e.documentation());
        e.synonyms()
            .forEach(
                syn ->
                    entry
                        .synonyms()
                        .add(
                            new DescribeConfigsSynonym()
                                .setName(syn.name())
                                .setValue(syn.value())
                                .setSource(syn.source().id())));
        result.configs().add(entry);
      }
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> new DescribeConfigsResponse(data));
  }
}
