package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.PartitionMetadata;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListOffsetsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Earliest (log start offset), latest (high watermark) and by timestamp: the storage engine finds
 * the first batch whose max timestamp reaches the target, and this handler finds the exact record
 * in it with Kafka's record classes.
 */
final class ListOffsetsHandler {

  private final BrokerContext broker;

  ListOffsetsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<ListOffsetsResponse> handle(
      RequestContext context, ListOffsetsRequest request) {
    ListOffsetsResponseData data = new ListOffsetsResponseData();
    Set<String> describable =
        broker
            .access()
            .allowedNames(
                context,
                AclOperation.DESCRIBE,
                ResourceType.TOPIC,
                request.data().topics().stream().map(ListOffsetsTopic::name).toList());
    List<CompletableFuture<?>> all = new ArrayList<>();
    // Leader epochs exist in the response from v4; writing one into an older version fails
    // serialization.
    boolean leaderEpochs = request.version() >= 4;
    boolean committedOnly = request.isolationLevel() == IsolationLevel.READ_COMMITTED;
    for (ListOffsetsTopic t : request.data().topics()) {
      ListOffsetsTopicResponse tr = new ListOffsetsTopicResponse().setName(t.name());
      data.topics().add(tr);
      for (ListOffsetsPartition p : t.partitions()) {
        ListOffsetsPartitionResponse r =
            new ListOffsetsPartitionResponse()
                .setPartitionIndex(p.partitionIndex())
                .setOffset(-1)
                .setTimestamp(-1)
                .setLeaderEpoch(-1);
        tr.partitions().add(r);
        if (!describable.contains(t.name())) {
          r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
          continue;
        }
        all.add(lookUp(t.name(), p, r, leaderEpochs, committedOnly));
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new ListOffsetsResponse(data));
  }

  /**
   * As Kafka's {@code Partition.fetchOffsetForTimestamp}: a read_committed client sees offsets
   * below the last stable offset only, a read_uncommitted one below the high watermark.
   */
  private CompletableFuture<Void> lookUp(
      String topic,
      ListOffsetsPartition p,
      ListOffsetsPartitionResponse r,
      boolean leaderEpochs,
      boolean committedOnly) {
    Partitions.Owned owned = Partitions.owned(broker, topic, p.partitionIndex());
    if (!owned.served()) {
      r.setErrorCode(owned.error().code());
      return CompletableFuture.completedFuture(null);
    }
    PartitionMetadata meta = owned.local();
    if (leaderEpochs) {
      r.setLeaderEpoch(meta.leaderEpoch());
    }
    long ts = p.timestamp();
    long fetchable =
        committedOnly
            ? broker.engine().logs().lastStableOffset(owned.id()).orElse(meta.highWatermark())
            : meta.highWatermark();
    if (ts == ListOffsetsRequest.EARLIEST_TIMESTAMP
        || ts == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
      r.setOffset(meta.logStartOffset());
      return CompletableFuture.completedFuture(null);
    }
    if (ts == ListOffsetsRequest.LATEST_TIMESTAMP) {
      r.setOffset(fetchable);
      return CompletableFuture.completedFuture(null);
    }
    if (ts == ListOffsetsRequest.LATEST_TIERED_TIMESTAMP) {
      // Nothing is tiered here (every byte is in object storage from the start): as Kafka
      // answers for a topic without remote storage.
      r.setOffset(-1).setTimestamp(-1);
      return CompletableFuture.completedFuture(null);
    }
    if (ts == ListOffsetsRequest.MAX_TIMESTAMP) {
      return broker
          .engine()
          .reader()
          .batchesWithMaxTimestamp(owned.id())
          .handle(
              (Optional<ByteBuffer> batches, Throwable t) -> {
                if (t != null) {
                  r.setErrorCode(ErrorCodes.of(t).code());
                } else if (batches.isPresent()) {
                  findMax(batches.get(), meta.logStartOffset(), fetchable, r, leaderEpochs);
                }
                return null;
              });
    }
    if (ts < 0) {
      r.setErrorCode(Errors.INVALID_REQUEST.code());
      return CompletableFuture.completedFuture(null);
    }
    return broker
        .engine()
        .reader()
        .batchesForTimestamp(owned.id(), ts)
        .handle(
            (Optional<ByteBuffer> batches, Throwable t) -> {
              if (t != null) {
                r.setErrorCode(ErrorCodes.of(t).code());
              } else if (batches.isPresent()) {
                find(batches.get(), ts, meta.logStartOffset(), r, leaderEpochs);
                if (r.offset() >= fetchable) {
                  r.setOffset(-1).setTimestamp(-1).setLeaderEpoch(-1);
                }
              }
              return null;
            });
  }

  /**
   * As Kafka's MAX_TIMESTAMP: the earliest record with the largest timestamp of the batches, its
   * offset and timestamp.
   */
  private static void findMax(
      ByteBuffer batches,
      long logStart,
      long fetchable,
      ListOffsetsPartitionResponse r,
      boolean leaderEpochs) {
    long best = Long.MIN_VALUE;
    for (RecordBatch batch : MemoryRecords.readableRecords(batches).batches()) {
      for (Record record : batch) {
        if (record.offset() < logStart) {
          continue;
        }
        long ts =
            batch.timestampType() == org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME
                ? batch.maxTimestamp()
                : record.timestamp();
        if (ts > best) {
          best = ts;
          r.setOffset(record.offset())
              .setTimestamp(ts)
              .setLeaderEpoch(leaderEpochs ? batch.partitionLeaderEpoch() : -1);
        }
      }
    }
    // As Kafka: a largest timestamp not yet fetchable (above the high watermark, or the last
    // stable offset for read_committed) gives no answer rather than a smaller one.
    if (r.offset() >= fetchable) {
      r.setOffset(-1).setTimestamp(-1).setLeaderEpoch(-1);
    }
  }

  private static void find(
      ByteBuffer batches,
      long target,
      long logStart,
      ListOffsetsPartitionResponse r,
      boolean leaderEpochs) {
    for (RecordBatch batch : MemoryRecords.readableRecords(batches).batches()) {
      if (batch.maxTimestamp() < target) {
        continue;
      }
      for (Record record : batch) {
        long ts =
            batch.timestampType() == org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME
                ? batch.maxTimestamp()
                : record.timestamp();
        if (ts >= target && record.offset() >= logStart) {
          r.setOffset(record.offset())
              .setTimestamp(ts)
              .setLeaderEpoch(leaderEpochs ? batch.partitionLeaderEpoch() : -1);
          return;
        }
      }
    }
  }
}
