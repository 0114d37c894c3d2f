package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.RequestContext;

/** Describes groups this broker coordinates (others answer NOT_COORDINATOR per group). */
final class DescribeGroupsHandler {

  private final BrokerContext broker;

  DescribeGroupsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(
      RequestContext context, DescribeGroupsRequest request) {
    return broker
        .groups()
        .coordinator()
        .describeGroups(context, request.data().groups())
        .thenApply(
            groups ->
                new DescribeGroupsResponse(new DescribeGroupsResponseData().setGroups(groups)));
  }
}
