package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.DescribedGroup;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/** Describes KIP-848 consumer groups this broker coordinates. */
final class ConsumerGroupDescribeHandler {

  private final BrokerContext broker;

  ConsumerGroupDescribeHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(
      RequestContext context, ConsumerGroupDescribeRequest request) {
    // As Kafka 4.4: DESCRIBE on each group, and a group whose members name topics the client may
    // not describe is refused rather than shown.
    Access access = broker.access();
    List<String> names = request.data().groupIds();
    Set<String> describable =
        access.allowedNames(context, AclOperation.DESCRIBE, ResourceType.GROUP, names);
    List<String> allowed = names.stream().filter(describable::contains).toList();
    CompletableFuture<List<DescribedGroup>> described =
        allowed.isEmpty()
            ? CompletableFuture.completedFuture(List.of())
            : broker.groups().coordinator().consumerGroupDescribe(context, allowed);
    return described.thenApply(
        groups -> {
          List<DescribedGroup> out = new ArrayList<>();
          for (DescribedGroup g : groups) {
            out.add(
                access.enabled()
                        && g.errorCode() == Errors.NONE.code()
                        && !topicsDescribable(context, g)
                    ? new DescribedGroup()
                        .setGroupId(g.groupId())
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage(
                            "The group has described topic(s) that the client is not authorized"
                                + " to describe.")
                    : g);
          }
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
          return new ConsumerGroupDescribeResponse(
              new ConsumerGroupDescribeResponseData().setGroups(out));
        });
  }

  /** Whether every topic the group's members subscribe to or are assigned may be described. */
  private boolean topicsDescribable(RequestContext context, DescribedGroup group) {
    Set<String> topics = new HashSet<>();
    for (var m : group.members()) {
      topics.addAll(m.subscribedTopicNames());
      m.assignment().topicPartitions().forEach(tp -> topics.add(tp.topicName()));
      m.targetAssignment().topicPartitions().forEach(tp -> topics.add(tp.topicName()));
    }
    return broker
        .access()
        .allowedNames(context, AclOperation.DESCRIBE, ResourceType.TOPIC, topics, false)
        .containsAll(topics);
  }
}
