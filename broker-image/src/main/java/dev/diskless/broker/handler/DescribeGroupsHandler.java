package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/** Describes groups this broker coordinates (others answer NOT_COORDINATOR per group). */
final class DescribeGroupsHandler {

  private final BrokerContext broker;

  DescribeGroupsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(
      RequestContext context, DescribeGroupsRequest request) {
    // As Kafka: DESCRIBE on each group; the others answer GROUP_AUTHORIZATION_FAILED.
    Access access = broker.access();
    List<String> names = request.data().groups();
    Set<String> describable =
        access.allowedNames(context, AclOperation.DESCRIBE, ResourceType.GROUP, names);
    List<String> allowed = names.stream().filter(describable::contains).toList();
    CompletableFuture<List<DescribedGroup>> described =
        allowed.isEmpty()
            ? CompletableFuture.completedFuture(List.of())
            : broker.groups().coordinator().describeGroups(context, allowed);
    return described.thenApply(
        groups -> {
          List<DescribedGroup> out = new ArrayList<>(groups);
          for (String n : names) {
            if (!describable.contains(n)) {
              out.add(
                  new DescribedGroup()
                      .setGroupId(n)
                      .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                      .setErrorMessage(Errors.GROUP_AUTHORIZATION_FAILED.message()));
            }
          }
          if (request.data().includeAuthorizedOperations()) {
            out.stream()
                .filter(g -> g.errorCode() == Errors.NONE.code())
                .forEach(
                    g ->
                        g.setAuthorizedOperations(
                            access.authorizedOperations(context, ResourceType.GROUP, g.groupId())));
          }
          return new DescribeGroupsResponse(new DescribeGroupsResponseData().setGroups(out));
        });
  }
}
