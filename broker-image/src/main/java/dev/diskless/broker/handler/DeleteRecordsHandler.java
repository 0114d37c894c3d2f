package dev.diskless.broker.handler;

import dev.diskless.broker.group.OffsetsTopic;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteRecordsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Moves log start offsets forward (offset -1 means the high watermark); only the owner may,
 * epoch-checked.
 */
final class DeleteRecordsHandler {

  private final BrokerContext broker;

  DeleteRecordsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<DeleteRecordsResponse> handle(
      RequestContext context, DeleteRecordsRequest request) {
    DeleteRecordsResponseData data = new DeleteRecordsResponseData();
    Set<String> deletable =
        broker
            .access()
            .allowedNames(
                context,
                AclOperation.DELETE,
                ResourceType.TOPIC,
                request.data().topics().stream().map(DeleteRecordsTopic::name).toList());
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (DeleteRecordsTopic t : request.data().topics()) {
      DeleteRecordsTopicResult tr = new DeleteRecordsTopicResult().setName(t.name());
      data.topics().add(tr);
      for (DeleteRecordsPartition p : t.partitions()) {
        DeleteRecordsPartitionResult r =
            new DeleteRecordsPartitionResult()
                .setPartitionIndex(p.partitionIndex())
                .setLowWatermark(-1);
        tr.partitions().add(r);
        if (!deletable.contains(t.name())) {
          r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
          continue;
        }
        Partitions.Owned owned = Partitions.owned(broker, t.name(), p.partitionIndex());
        if (OffsetsTopic.isInternal(t.name())) {
          r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code());
        } else if (owned.served() && !deletes(t.name())) {
          // As Kafka: records of a topic whose cleanup.policy lacks delete cannot be deleted.
          r.setErrorCode(Errors.POLICY_VIOLATION.code());
        } else if (!owned.served()) {
          r.setErrorCode(owned.error().code());
        } else {
          all.add(
              broker
                  .engine()
                  .logs()
                  .deleteRecordsBefore(
                      owned.id(),
                      owned.local().leaderEpoch(),
                      p.offset(),
                      broker.engine().logBounds())
                  .handle(
                      (lso, e) -> {
                        if (e != null) {
                          r.setErrorCode(ErrorCodes.of(e).code());
                        } else {
                          r.setLowWatermark(lso);
                        }
                        return null;
                      }));
        }
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new DeleteRecordsResponse(data));
  }

  /** Whether the topic's cleanup.policy includes delete (Kafka's default). */
  private boolean deletes(String topic) {
    String policy =
        broker
            .view()
            .current()
            .topic(topic)
            .map(info -> info.configs().getOrDefault("cleanup.policy", "delete"))
            .orElse("delete");
    return java.util.Arrays.stream(policy.split(",")).map(String::trim).anyMatch("delete"::equals);
  }
}
