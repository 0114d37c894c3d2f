package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Returns committed offsets of one group (before v8) or several (v8 and later), for the partitions
 * asked or, when none are named, all of them. Each group is answered by the coordinator; an error
 * for one group does not fail the others.
 */
final class OffsetFetchHandler {

  private final BrokerContext broker;

  OffsetFetchHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, OffsetFetchRequest request) {
    List<CompletableFuture<OffsetFetchResponseGroup>> futures = new ArrayList<>();
    for (OffsetFetchRequestGroup group : request.groups()) {
      futures.add(fetch(context, request, group));
    }
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .thenApply(
            v ->
                new OffsetFetchResponse.Builder(
                        futures.stream().map(CompletableFuture::join).toList())
                    .build(request.version()));
  }

  /**
   * One group's offsets, as Kafka authorizes them: DESCRIBE on the group; named topics the client
   * may not describe answer TOPIC_AUTHORIZATION_FAILED, and when all topics were asked for those
   * are left out.
   */
  private CompletableFuture<OffsetFetchResponseGroup> fetch(
      RequestContext context, OffsetFetchRequest request, OffsetFetchRequestGroup group) {
    Access access = broker.access();
    if (!access.allowed(context, AclOperation.DESCRIBE, ResourceType.GROUP, group.groupId())) {
      return CompletableFuture.completedFuture(
          OffsetFetchResponse.groupError(
              group, Errors.GROUP_AUTHORIZATION_FAILED, request.version()));
    }
    List<OffsetFetchRequestTopics> refused = new ArrayList<>();
    OffsetFetchRequestGroup asked = group;
    if (group.topics() != null && access.enabled()) {
      Set<String> describable =
          access.allowedNames(
              context,
              AclOperation.DESCRIBE,
              ResourceType.TOPIC,
              group.topics().stream().map(OffsetFetchRequestTopics::name).toList());
      List<OffsetFetchRequestTopics> allowed = new ArrayList<>();
      for (OffsetFetchRequestTopics t : group.topics()) {
        (describable.contains(t.name()) ? allowed : refused).add(t);
      }
      asked = group.duplicate().setTopics(allowed);
    }
    return broker
        .groups()
        .coordinator()
        .fetchOffsets(context, asked, request.requireStable())
        .thenApply(
            response -> {
              if (response.errorCode() != Errors.NONE.code() || !access.enabled()) {
                return response;
              }
              if (group.topics() == null) {
                Set<String> describable =
                    access.allowedNames(
                        context,
                        AclOperation.DESCRIBE,
                        ResourceType.TOPIC,
                        response.topics().stream().map(OffsetFetchResponseTopics::name).toList(),
                        false);
                response.setTopics(
                    new ArrayList<>(
                        response.topics().stream()
                            .filter(t -> describable.contains(t.name()))
                            .toList()));
                return response;
              }
              List<OffsetFetchResponseTopics> topics = new ArrayList<>(response.topics());
              for (OffsetFetchRequestTopics t : refused) {
                List<OffsetFetchResponsePartitions> partitions = new ArrayList<>();
                for (int index : t.partitionIndexes()) {
                  partitions.add(
                      new OffsetFetchResponsePartitions()
                          .setPartitionIndex(index)
                          .setCommittedOffset(OffsetFetchResponse.INVALID_OFFSET)
                          .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                }
                topics.add(
                    new OffsetFetchResponseTopics().setName(t.name()).setPartitions(partitions));
              }
              return response.setTopics(topics);
            })
        .exceptionally(
            t -> OffsetFetchResponse.groupError(group, Errors.forException(t), request.version()));
  }
}
