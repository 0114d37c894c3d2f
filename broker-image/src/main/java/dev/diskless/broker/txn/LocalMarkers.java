package dev.diskless.broker.txn;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.group.GroupCoordination;
import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.broker.handler.ErrorCodes;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.wal.WriteAheadLog;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.TransactionResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a transaction marker to a partition this broker owns, as the partition's leader does on
 * WriteTxnMarkers: on a data partition a COMMIT or ABORT control batch appended by the owner (the
 * storage engine ends the producer's transaction there when it commits), on an offsets-topic
 * partition through the group coordinator, which applies or drops the transaction's offsets and
 * writes the marker itself.
 */
public final class LocalMarkers {

  private static final Logger LOG = LoggerFactory.getLogger(LocalMarkers.class);

  /** A marker is one small control batch: no topic size limit applies. */
  /** Each marker's buffer is made for its one append. */
  private static final AppendOptions OPTIONS = AppendOptions.coordinator().keepingBuffer();

  private final StorageEngine engine;
  private final ClusterView view;
  private final GroupCoordination groups;

  public LocalMarkers(StorageEngine engine, ClusterView view, GroupCoordination groups) {
    this.engine = engine;
    this.view = view;
    this.groups = groups;
  }

  /**
   * Held while several markers are written, so that they go into one WAL flush: a transaction's
   * completion waits for its last marker.
   */
  public WriteAheadLog.Hold holdFlushes() {
    return engine.logs().holdFlushes();
  }

  /** Writes the marker; completes with the error a leader answers WriteTxnMarkers with. */
  public CompletableFuture<Errors> write(
      TopicPartition tp,
      long producerId,
      short producerEpoch,
      int coordinatorEpoch,
      boolean commit) {
    Optional<TopicInfo> topic = view.current().topic(tp.topic());
    if (topic.isEmpty() || tp.partition() < 0 || tp.partition() >= topic.get().partitionCount()) {
      return CompletableFuture.completedFuture(Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }
    TopicPartitionId id = new TopicPartitionId(topic.get().topicId(), tp.partition());
    Optional<PartitionMetadata> local = engine.logs().local(id);
    if (local.isEmpty()) {
      return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
    }
    CompletableFuture<?> written;
    if (OffsetsTopic.NAME.equals(tp.topic())) {
      written =
          groups
              .coordinator()
              .completeTransaction(
                  tp,
                  producerId,
                  producerEpoch,
                  coordinatorEpoch,
                  commit ? TransactionResult.COMMIT : TransactionResult.ABORT,
                  (short) 0);
    } else {
      MemoryRecords marker =
          MemoryRecords.withEndTransactionMarker(
              System.currentTimeMillis(),
              producerId,
              producerEpoch,
              new EndTransactionMarker(
                  commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, coordinatorEpoch));
      written = engine.logs().append(id, local.get().leaderEpoch(), marker.buffer(), OPTIONS);
    }
    return written.handle(
        (r, t) -> {
          if (t == null) {
            return Errors.NONE;
          }
          Errors error = ErrorCodes.of(t);
          // As Kafka's KafkaApis: the coordinator does not expect these from a partition's leader;
          // they mean the offsets partition is not ready yet here.
          if (error == Errors.NOT_COORDINATOR
              || error == Errors.COORDINATOR_NOT_AVAILABLE
              || error == Errors.COORDINATOR_LOAD_IN_PROGRESS) {
            error = Errors.NOT_LEADER_OR_FOLLOWER;
          }
          LOG.info(
              "partition={} producer={} epoch={} coordinator_epoch={} {} marker not written: {}",
              tp,
              producerId,
              producerEpoch,
              coordinatorEpoch,
              commit ? "COMMIT" : "ABORT",
              error);
          return error;
        });
  }
}
