package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.metadata.PartitionLimits;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreatePartitionsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Grows topics; the new partitions get owners among the live brokers, the existing ones are
 * untouched. Growth past the broker's {@link PartitionLimits} answers POLICY_VIOLATION at once.
 */
final class CreatePartitionsHandler {

  private final BrokerContext broker;

  CreatePartitionsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<CreatePartitionsResponse> handle(
      RequestContext context, CreatePartitionsRequest request) {
    CreatePartitionsResponseData data = new CreatePartitionsResponseData();
    Set<String> alterable =
        broker
            .access()
            .allowedNames(
                context,
                AclOperation.ALTER,
                ResourceType.TOPIC,
                request.data().topics().stream().map(CreatePartitionsTopic::name).toList());
    ClusterView.Snapshot snapshot = broker.view().current();
    PartitionLimits limits = broker.partitionLimits();
    List<Runnable> grow = new ArrayList<>();
    List<CreatePartitionsTopicResult> growing = new ArrayList<>();
    List<CompletableFuture<?>> all = new ArrayList<>();
    long adding = 0;
    for (CreatePartitionsTopic t : request.data().topics()) {
      CreatePartitionsTopicResult r = new CreatePartitionsTopicResult().setName(t.name());
      data.results().add(r);
      Optional<TopicInfo> topic = snapshot.topic(t.name());
      if (!alterable.contains(t.name())) {
        r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        continue;
      }
      if (topic.isEmpty()) {
        r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        continue;
      }
      if (OffsetsTopic.isInternal(t.name())) {
        // Groups are hashed onto its partitions: more partitions would move them all.
        r.setErrorCode(Errors.INVALID_REQUEST.code())
            .setErrorMessage("partitions cannot be added to internal topic " + t.name());
        continue;
      }
      if (t.assignments() != null && !t.assignments().isEmpty()) {
        r.setErrorCode(Errors.INVALID_REQUEST.code())
            .setErrorMessage("manual replica assignment is not supported");
        continue;
      }
      int before = topic.get().partitionCount();
      if (t.count() <= before) {
        r.setErrorCode(Errors.INVALID_PARTITIONS.code())
            .setErrorMessage(
                "topic "
                    + t.name()
                    + " has "
                    + before
                    + " partitions; the new count must be larger");
        continue;
      }
      Optional<String> tooMany = limits.checkTopic(t.name(), t.count());
      if (tooMany.isPresent()) {
        r.setErrorCode(Errors.POLICY_VIOLATION.code()).setErrorMessage(tooMany.get());
        continue;
      }
      adding += t.count() - before;
      growing.add(r);
      if (request.data().validateOnly()) {
        continue;
      }
      TopicInfo grown =
          new TopicInfo(topic.get().topicId(), t.name(), t.count(), topic.get().configs());
      grow.add(
          () ->
              all.add(
                  broker
                      .topics()
                      .addPartitions(topic.get().topicId(), t.count(), limits)
                      .thenCompose(v -> broker.assigner().assign(grown, before))
                      .handle(
                          (v, e) -> {
                            if (e != null) {
                              r.setErrorCode(ErrorCodes.of(e).code())
                                  .setErrorMessage(StorageException.unwrap(e).getMessage());
                            }
                            return null;
                          })));
    }
    // As Kafka's controller, a request that would take the cluster past its bound is refused as
    // a whole, before any row is written.
    Optional<String> full =
        limits.checkCluster(CreateTopicsHandler.totalPartitions(snapshot), adding);
    if (full.isPresent()) {
      growing.forEach(
          r -> r.setErrorCode(Errors.POLICY_VIOLATION.code()).setErrorMessage(full.get()));
    } else {
      grow.forEach(Runnable::run);
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new CreatePartitionsResponse(data));
  }
}
