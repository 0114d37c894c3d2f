package dev.diskless.broker.group;

import dev.diskless.broker.txn.TransactionVerifier;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.log.PartitionLogs;
import dev.diskless.storage.metadata.LogBounds;
import dev.diskless.storage.metadata.PartitionMetadata;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.coordinator.common.runtime.PartitionWriter;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.apache.kafka.storage.internals.log.VerificationGuard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets Kafka's coordinator runtime write its records to the offsets topic through the storage
 * engine. The runtime expects a local log: {@code append} returns the log end offset at once and
 * the write counts only when the high watermark passes it. Here the engine assigns offsets at
 * append and the high watermark moves when the WAL commit lands, so the shape fits; the engine is
 * told which offset each write must start at, so a write lost with a failed flush can never be
 * followed by one built on top of it. Any lost write makes the partition's coordinator reload from
 * the committed log.
 */
final class CoordinatorPartitionWriter implements PartitionWriter {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorPartitionWriter.class);

  /** Coordinator batches are bounded by the runtime's own buffer; do not apply a topic limit. */
  private static final AppendOptions OPTIONS = AppendOptions.coordinator();

  private final OffsetsTopic topic;
  private final PartitionLogs logs;
  private final LogBounds bounds;
  private final IntConsumer writeLost;
  private final TransactionVerifier verifier;

  /** Per offsets-topic partition: where the coordinator's next write must start. */
  private final Map<Integer, Long> nextOffsets = new ConcurrentHashMap<>();

  private final Map<Integer, List<Listener>> listeners = new ConcurrentHashMap<>();

  /**
   * @param writeLost called with the partition index when a write was not committed; the
   *     coordinator for it must reload
   */
  CoordinatorPartitionWriter(
      OffsetsTopic topic,
      StorageEngine engine,
      TransactionVerifier verifier,
      IntConsumer writeLost) {
    this.verifier = verifier;
    this.topic = topic;
    this.logs = engine.logs();
    this.bounds = engine.logBounds();
    this.writeLost = writeLost;
    logs.addHighWatermarkListener(this::highWatermarkAdvanced);
  }

  /** Called by the loader once it has replayed everything below {@code offset}. */
  void loadedUpTo(int partition, long offset) {
    nextOffsets.put(partition, offset);
  }

  /** Forgets a partition: its writes fail until it is loaded again. */
  void forget(int partition) {
    nextOffsets.remove(partition);
  }

  private void highWatermarkAdvanced(TopicPartitionId tp, long hw) {
    topic
        .kafkaPartition(tp)
        .ifPresent(
            k ->
                listeners
                    .getOrDefault(k.partition(), List.of())
                    .forEach(l -> l.onHighWatermarkUpdated(k, hw)));
  }

  @Override
  public void registerListener(TopicPartition tp, Listener listener) {
    listeners.computeIfAbsent(tp.partition(), p -> new CopyOnWriteArrayList<>()).add(listener);
  }

  @Override
  public void deregisterListener(TopicPartition tp, Listener listener) {
    List<Listener> l = listeners.get(tp.partition());
    if (l != null) {
      l.remove(listener);
    }
  }

  @Override
  public LogConfig config(TopicPartition tp) {
    return new LogConfig(Map.of());
  }

  @Override
  public long append(
      TopicPartition tp,
      VerificationGuard verificationGuard,
      MemoryRecords records,
      short transactionVersion)
      throws KafkaException {
    int partition = tp.partition();
    TopicPartitionId id = topic.partition(partition);
    PartitionMetadata local =
        logs.local(id)
            .orElseThrow(
                () -> new NotLeaderOrFollowerException("node does not own " + tp + " any more"));
    Long base = nextOffsets.get(partition);
    if (base == null) {
      throw new NotLeaderOrFollowerException(tp + " is reloading after a lost write");
    }
    long count = 0;
    for (RecordBatch batch : records.batches()) {
      count += batch.lastOffset() - batch.baseOffset() + 1;
    }
    long end = base + count;
    CompletableFuture<?> written =
        logs.appendAt(id, local.leaderEpoch(), base, records.buffer().duplicate(), OPTIONS);
    if (written.isCompletedExceptionally()) {
      // Nothing was written and the runtime rolls its state back. If the log moved on without us
      // (a lost write, or ownership gone) the coordinator must reload; otherwise (e.g. the WAL
      // buffer is full) the next write may simply try again at the same offset.
      Throwable cause = StorageException.unwrap(written.exceptionNow());
      KafkaException error = asKafka(tp, cause);
      if (error instanceof NotLeaderOrFollowerException && nextOffsets.remove(partition, base)) {
        writeLost.accept(partition);
      }
      throw error;
    }
    nextOffsets.put(partition, end);
    written.whenComplete(
        (r, t) -> {
          if (t != null) {
            LOG.warn(
                "partition={} epoch={} coordinator write at offset {} lost, reloading: {}",
                tp,
                local.leaderEpoch(),
                base,
                StorageException.unwrap(t).toString());
            // Only the first loss since the last load triggers a reload.
            if (nextOffsets.remove(partition) != null) {
              writeLost.accept(partition);
            }
          }
        });
    return end;
  }

  private static KafkaException asKafka(TopicPartition tp, Throwable cause) {
    if (cause instanceof StorageException se
        && (se.kind() == StorageException.Kind.NOT_OWNER
            || se.kind() == StorageException.Kind.FENCED_EPOCH)) {
      return new NotLeaderOrFollowerException(se.getMessage());
    }
    // Retriable for the client: the coordinator is briefly unavailable.
    return new NotEnoughReplicasException(tp + ": " + cause.getMessage(), cause);
  }

  /**
   * TxnOffsetCommit's transaction verification: the offsets partition must be in the producer's
   * ongoing transaction (AddOffsetsToTxn put it there), checked against the coordinator's state.
   */
  @Override
  public CompletableFuture<VerificationGuard> maybeStartTransactionVerification(
      TopicPartition tp,
      String transactionalId,
      long producerId,
      short producerEpoch,
      int apiVersion) {
    return verifier
        .verify(transactionalId, producerId, producerEpoch, tp)
        .thenCompose(
            error ->
                error == Errors.NONE
                    ? CompletableFuture.completedFuture(new VerificationGuard())
                    : CompletableFuture.failedFuture(
                        (error == Errors.TRANSACTION_ABORTABLE ? Errors.INVALID_TXN_STATE : error)
                            .exception()));
  }

  @Override
  public CompletableFuture<Void> deleteRecords(TopicPartition tp, long deleteBeforeOffset) {
    TopicPartitionId id = topic.partition(tp.partition());
    PartitionMetadata local = logs.local(id).orElse(null);
    if (local == null) {
      return CompletableFuture.failedFuture(
          new NotLeaderOrFollowerException("node does not own " + tp + " any more"));
    }
    return logs.deleteRecordsBefore(id, local.leaderEpoch(), deleteBeforeOffset, bounds)
        .thenApply(lso -> (Void) null);
  }
}
