package dev.diskless.broker.group;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.LogReader;
import dev.diskless.storage.log.PartitionLogs;
import dev.diskless.storage.log.ReadResult;
import dev.diskless.storage.metadata.PartitionMetadata;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.coordinator.common.runtime.CoordinatorLoader;
import org.apache.kafka.coordinator.common.runtime.CoordinatorPlayback;
import org.apache.kafka.coordinator.common.runtime.CoordinatorRecord;
import org.apache.kafka.coordinator.common.runtime.Deserializer;
import org.apache.kafka.coordinator.group.GroupCoordinatorRecordSerde;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a coordinator's state when this broker becomes the owner of an offsets-topic partition:
 * replays every committed record from the log start to the high watermark through the storage
 * engine's reader, then tells the writer where the next write starts. Kafka's own loader needs its
 * local {@code UnifiedLog}, hence this one.
 */
final class CoordinatorLogLoader implements CoordinatorLoader<CoordinatorRecord> {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorLogLoader.class);
  private static final int READ_BYTES = 8 << 20;

  private final OffsetsTopic topic;
  private final PartitionLogs logs;
  private final LogReader reader;
  private final CoordinatorPartitionWriter writer;
  private final GroupCoordinatorRecordSerde serde = new GroupCoordinatorRecordSerde();
  private final Time time = Time.SYSTEM;

  CoordinatorLogLoader(
      OffsetsTopic topic, PartitionLogs logs, LogReader reader, CoordinatorPartitionWriter writer) {
    this.topic = topic;
    this.logs = logs;
    this.reader = reader;
    this.writer = writer;
  }

  @Override
  public CompletableFuture<LoadSummary> load(
      TopicPartition tp, CoordinatorPlayback<CoordinatorRecord> playback) {
    TopicPartitionId id = topic.partition(tp.partition());
    PartitionMetadata local = logs.local(id).orElse(null);
    if (local == null) {
      return CompletableFuture.failedFuture(
          new NotLeaderOrFollowerException("node does not own " + tp + " any more"));
    }
    long start = time.milliseconds();
    Progress progress = new Progress(local.logStartOffset(), local.highWatermark());
    return replayFrom(id, tp, playback, progress)
        .thenApply(
            v -> {
              long end = progress.highWatermark;
              if (end > 0) {
                playback.updateLastWrittenOffset(end);
                playback.updateLastCommittedOffset(end);
              }
              writer.loadedUpTo(tp.partition(), end);
              long now = time.milliseconds();
              LOG.info(
                  "partition={} epoch={} coordinator loaded {} records ({} bytes) up to offset {}"
                      + " in {} ms",
                  tp,
                  local.leaderEpoch(),
                  progress.records,
                  progress.bytes,
                  end,
                  now - start);
              return new LoadSummary(start, now, 0, progress.records, progress.bytes);
            });
  }

  /** Where replay stands; touched only by the one chain of reads of a load. */
  private static final class Progress {
    long next;
    final long highWatermark;
    long records;
    long bytes;

    Progress(long next, long highWatermark) {
      this.next = next;
      this.highWatermark = highWatermark;
    }
  }

  private CompletableFuture<Void> replayFrom(
      TopicPartitionId id,
      TopicPartition tp,
      CoordinatorPlayback<CoordinatorRecord> playback,
      Progress progress) {
    if (progress.next >= progress.highWatermark) {
      return CompletableFuture.completedFuture(null);
    }
    return reader
        .read(id, progress.next, READ_BYTES)
        .thenCompose(
            read -> {
              replay(tp, read, playback, progress);
              return replayFrom(id, tp, playback, progress);
            });
  }

  private void replay(
      TopicPartition tp,
      ReadResult read,
      CoordinatorPlayback<CoordinatorRecord> playback,
      Progress progress) {
    long before = progress.next;
    for (MutableRecordBatch batch : MemoryRecords.readableRecords(read.records()).batches()) {
      if (batch.lastOffset() < progress.next) {
        continue;
      }
      if (batch.baseOffset() >= progress.highWatermark) {
        break;
      }
      progress.bytes += batch.sizeInBytes();
      if (batch.isControlBatch()) {
        // A transaction's marker applies (COMMIT) or drops (ABORT) its pending offsets.
        for (Record record : batch) {
          ControlRecordType type = ControlRecordType.parse(record.key());
          if (type == ControlRecordType.COMMIT || type == ControlRecordType.ABORT) {
            playback.replayEndTransactionMarker(
                batch.producerId(),
                batch.producerEpoch(),
                type == ControlRecordType.COMMIT
                    ? TransactionResult.COMMIT
                    : TransactionResult.ABORT);
          }
        }
      } else {
        for (Record record : batch) {
          if (record.offset() < progress.next || record.offset() >= progress.highWatermark) {
            continue;
          }
          if (!record.hasKey()) {
            throw new IllegalStateException(
                tp + " has a record without a key at offset " + record.offset());
          }
          try {
            CoordinatorRecord r = serde.deserialize(record.key(), record.value());
            playback.replay(record.offset(), batch.producerId(), batch.producerEpoch(), r);
            progress.records++;
          } catch (Deserializer.UnknownRecordTypeException e) {
            // Written by a newer coordinator; Kafka's loader skips them too.
            LOG.warn(
                "partition={} skipped record of unknown type {} at offset {}",
                tp,
                e.unknownType(),
                record.offset());
          }
        }
      }
      progress.next = batch.lastOffset() + 1;
    }
    if (progress.next == before) {
      throw new IllegalStateException(
          tp + ": a read at offset " + before + " returned nothing below the high watermark");
    }
  }

  @Override
  public void close() {}
}
