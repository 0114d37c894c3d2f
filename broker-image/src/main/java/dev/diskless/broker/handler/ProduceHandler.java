package dev.diskless.broker.handler;

import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.storage.log.AppendResult;
import dev.diskless.storage.metadata.TopicInfo;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;

/**
 * Appends each partition's batches to the storage engine, which acknowledges only after they are
 * durable and committed (acks=0, 1 and all are the same here: there are no followers to wait for).
 * Errors are per partition and always ones a producer retries or reports precisely; never
 * UNKNOWN_SERVER_ERROR.
 */
final class ProduceHandler {

  private final BrokerContext broker;

  ProduceHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<ProduceResponse> handle(ProduceRequest request) {
    ProduceResponseData data = new ProduceResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (TopicProduceData topic : request.data().topicData()) {
      // Produce v13 names topics by id only.
      String name = TopicNames.resolve(broker.view(), topic.name(), topic.topicId());
      TopicProduceResponse t =
          new TopicProduceResponse().setName(topic.name()).setTopicId(topic.topicId());
      data.responses().add(t);
      for (PartitionProduceData p : topic.partitionData()) {
        PartitionProduceResponse r =
            new PartitionProduceResponse()
                .setIndex(p.index())
                .setBaseOffset(-1)
                .setLogAppendTimeMs(-1)
                .setLogStartOffset(-1);
        t.partitionResponses().add(r);
        if (name == null) {
          r.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
          continue;
        }
        all.add(append(name, p, r));
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new ProduceResponse(data));
  }

  private CompletableFuture<Void> append(
      String topicName, PartitionProduceData p, PartitionProduceResponse r) {
    if (OffsetsTopic.isInternal(topicName)) {
      // Only the group coordinator writes there.
      r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())
          .setErrorMessage("cannot append to internal topic " + topicName);
      return CompletableFuture.completedFuture(null);
    }
    Partitions.Owned owned = Partitions.owned(broker, topicName, p.index());
    if (!owned.served()) {
      r.setErrorCode(owned.error().code());
      return CompletableFuture.completedFuture(null);
    }
    Map<String, String> configs =
        broker.view().current().topic(topicName).map(TopicInfo::configs).orElse(Map.of());
    ByteBuffer records = ((MemoryRecords) p.records()).buffer();
    return broker
        .engine()
        .logs()
        .append(
            owned.id(), owned.local().leaderEpoch(), records, TopicConfigs.appendOptions(configs))
        .handle(
            (AppendResult res, Throwable t) -> {
              if (t != null) {
                Errors error = ErrorCodes.of(t);
                r.setErrorCode(error.code())
                    .setErrorMessage(
                        t.getCause() != null ? t.getCause().getMessage() : t.getMessage());
              } else {
                r.setBaseOffset(res.baseOffset())
                    .setLogAppendTimeMs(res.logAppendTime())
                    .setLogStartOffset(res.logStartOffset());
              }
              return null;
            });
  }
}
