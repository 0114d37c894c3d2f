package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeResponse;
import org.apache.kafka.common.requests.RequestContext;

/** Describes KIP-848 consumer groups this broker coordinates. */
final class ConsumerGroupDescribeHandler {

  private final BrokerContext broker;

  ConsumerGroupDescribeHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(
      RequestContext context, ConsumerGroupDescribeRequest request) {
    return broker
        .groups()
        .coordinator()
        .consumerGroupDescribe(context, request.data().groupIds())
        .thenApply(
            groups ->
                new ConsumerGroupDescribeResponse(
                    new ConsumerGroupDescribeResponseData().setGroups(groups)));
  }
}
