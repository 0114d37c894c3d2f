package dev.diskless.broker.handler;

import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreatePartitionsResponse;

/**
 * Grows topics; the new partitions get owners among the live brokers, the existing ones are
 * untouched.
 */
final class CreatePartitionsHandler {

  private final BrokerContext broker;

  CreatePartitionsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<CreatePartitionsResponse> handle(CreatePartitionsRequest request) {
    CreatePartitionsResponseData data = new CreatePartitionsResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (CreatePartitionsTopic t : request.data().topics()) {
      CreatePartitionsTopicResult r = new CreatePartitionsTopicResult().setName(t.name());
      data.results().add(r);
      Optional<TopicInfo> topic = broker.view().current().topic(t.name());
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
      if (request.data().validateOnly()) {
        continue;
      }
      TopicInfo grown =
          new TopicInfo(topic.get().topicId(), t.name(), t.count(), topic.get().configs());
      all.add(
          broker
              .topics()
              .addPartitions(topic.get().topicId(), t.count())
              .thenCompose(v -> broker.assigner().assign(grown, before))
              .handle(
                  (v, e) -> {
                    if (e != null) {
                      r.setErrorCode(ErrorCodes.of(e).code())
                          .setErrorMessage(StorageException.unwrap(e).getMessage());
                    }
                    return null;
                  }));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new CreatePartitionsResponse(data));
  }
}
