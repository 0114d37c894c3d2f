package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/** Lists the groups of the offsets-topic partitions this broker coordinates (admin asks all). */
final class ListGroupsHandler {

  private final BrokerContext broker;

  ListGroupsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, ListGroupsRequest request) {
    return broker
        .groups()
        .coordinator()
        .listGroups(context, request.data())
        .thenApply(
            data -> {
              // As Kafka: DESCRIBE on the cluster lists every group, else only the describable.
              Access access = broker.access();
              if (!access.cluster(context, AclOperation.DESCRIBE, false)) {
                Set<String> describable =
                    access.allowedNames(
                        context,
                        AclOperation.DESCRIBE,
                        ResourceType.GROUP,
                        data.groups().stream().map(ListedGroup::groupId).toList(),
                        false);
                data.setGroups(
                    data.groups().stream()
                        .filter(g -> describable.contains(g.groupId()))
                        .collect(java.util.stream.Collectors.toCollection(ArrayList::new)));
              }
              return new ListGroupsResponse(data);
            });
  }
}
