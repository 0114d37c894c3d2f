package dev.diskless.broker.handler;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.ReadResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;

/**
 * Reads each requested partition this broker owns from the storage engine. If fewer than min.bytes
 * came back, the request waits (up to max.wait.ms) for any of its partitions to commit more, then
 * reads once more. Topics are named (up to v12) or given by id (v13 and later). Fetch sessions are
 * not kept (session id 0): clients then send full fetch requests, which the protocol allows.
 */
final class FetchHandler {

  private final BrokerContext broker;

  FetchHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<FetchResponse> handle(FetchRequest request) {
    var data = request.data();
    CompletableFuture<FetchResponseData> first = read(data.topics(), data.maxBytes());
    return first
        .thenCompose(
            response -> {
              long bytes = bytes(response);
              if (bytes >= data.minBytes() || data.maxWaitMs() <= 0 || hasError(response)) {
                return CompletableFuture.completedFuture(response);
              }
              List<TopicPartitionId> partitions = new ArrayList<>();
              for (FetchTopic t : data.topics()) {
                String name = TopicNames.resolve(broker.view(), t.topic(), t.topicId());
                for (FetchPartition p : t.partitions()) {
                  if (name != null) {
                    Partitions.resolve(broker.view(), name, p.partition())
                        .ifPresent(partitions::add);
                  }
                }
              }
              return broker
                  .waiters()
                  .await(partitions)
                  .completeOnTimeout(null, data.maxWaitMs(), TimeUnit.MILLISECONDS)
                  .thenCompose(v -> read(data.topics(), data.maxBytes()));
            })
        .thenApply(r -> FetchResponse.of(r.setSessionId(0)));
  }

  private CompletableFuture<FetchResponseData> read(List<FetchTopic> topics, int maxBytes) {
    FetchResponseData data = new FetchResponseData();
    List<CompletableFuture<?>> reads = new ArrayList<>();
    AtomicLong budget = new AtomicLong(maxBytes);
    for (FetchTopic t : topics) {
      // Fetch v13 and later name topics by id only.
      String name = TopicNames.resolve(broker.view(), t.topic(), t.topicId());
      FetchableTopicResponse tr =
          new FetchableTopicResponse().setTopic(t.topic()).setTopicId(t.topicId());
      data.responses().add(tr);
      for (FetchPartition p : t.partitions()) {
        PartitionData pd =
            new PartitionData()
                .setPartitionIndex(p.partition())
                .setHighWatermark(-1)
                .setLastStableOffset(-1)
                .setLogStartOffset(-1)
                .setRecords(MemoryRecords.EMPTY);
        tr.partitions().add(pd);
        if (name == null) {
          pd.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
          continue;
        }
        reads.add(readPartition(name, p, pd, budget));
      }
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> data);
  }

  private CompletableFuture<Void> readPartition(
      String topic, FetchPartition p, PartitionData pd, AtomicLong budget) {
    Partitions.Owned owned = Partitions.owned(broker, topic, p.partition());
    if (!owned.served()) {
      pd.setErrorCode(owned.error().code());
      return CompletableFuture.completedFuture(null);
    }
    int max = (int) Math.max(1, Math.min(p.partitionMaxBytes(), budget.get()));
    return broker
        .engine()
        .reader()
        .read(owned.id(), p.fetchOffset(), max)
        .handle(
            (ReadResult r, Throwable t) -> {
              if (t != null) {
                pd.setErrorCode(ErrorCodes.of(t).code());
                return null;
              }
              budget.addAndGet(-r.records().remaining());
              pd.setHighWatermark(r.highWatermark())
                  .setLastStableOffset(r.highWatermark())
                  .setLogStartOffset(r.logStartOffset())
                  .setRecords(MemoryRecords.readableRecords(r.records()));
              return null;
            });
  }

  private static long bytes(FetchResponseData data) {
    long total = 0;
    for (FetchableTopicResponse t : data.responses()) {
      for (PartitionData p : t.partitions()) {
        total += p.records() == null ? 0 : p.records().sizeInBytes();
      }
    }
    return total;
  }

  private static boolean hasError(FetchResponseData data) {
    return data.responses().stream()
        .flatMap(t -> t.partitions().stream())
        .anyMatch(p -> p.errorCode() != 0);
  }
}
