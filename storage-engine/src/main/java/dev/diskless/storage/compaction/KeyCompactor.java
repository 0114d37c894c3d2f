package dev.diskless.storage.compaction;

import dev.diskless.storage.CrashPoints;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.log.PartitionLogs;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.KeyCompactionStore;
import dev.diskless.storage.metadata.KeyCompactionStore.CleanedObject;
import dev.diskless.storage.metadata.KeyCompactionStore.CleaningState;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter.BatchRetention;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter.BatchRetentionResult;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key compaction of one partition ({@code cleanup.policy=compact}), with the semantics of Kafka's
 * log cleaner, as an object rewrite. A run picks its range ({@link CleanableRange}), maps each key
 * of the dirty part to its latest offset ({@link KeyOffsetMap}, a fixed memory budget: when it
 * fills, the run cleans only up to where it mapped and the next run goes on), then rewrites every
 * entry from the log start to the end of what it mapped with Kafka's {@code
 * MemoryRecords.filterTo}: a record is kept unless a later record has its key, it has no key, or it
 * is a tombstone whose delete horizon has passed (the first run that keeps a tombstone stamps its
 * batch with now + {@code delete.retention.ms}, KIP-534). Kept batches keep their offsets, producer
 * ids and sequence numbers, so offsets are never renumbered: cleaned ranges have gaps. The output
 * is uploaded as new segment objects, then swapped in by one metadata transaction fenced by owner
 * and leader epoch that also moves the cleaner checkpoint; if anything changed meanwhile the swap
 * is refused and the new objects are deleted. Replaced objects go through the usual deletion grace,
 * so a reader that holds an old index entry still finds its bytes.
 */
public final class KeyCompactor implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KeyCompactor.class);

  /** Index entries one run looks at, at most: a run cleans the prefix it can see. */
  static final int MAX_ENTRIES = 100_000;

  private final CompactionConfig config;
  private final KeyCompactionStore store;
  private final ObjectStore objects;
  private final PartitionLogs logs;
  private final StorageMetrics metrics;
  private final int nodeId;
  private final LongSupplier clock;
  // Told the partition and the offset below which the log was rewritten (the tail cache drops it).
  private final BiConsumer<TopicPartitionId, Long> cleaned;
  private final CrashPoints crashPoints;
  // Decompressing, mapping and filtering records is CPU work: it runs here, not on the object
  // store's response threads, which every read of the engine waits on.
  private final ExecutorService cpu =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().name("key-compaction").daemon().factory());
  private final java.util.Set<TopicPartitionId> running =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  // Partitions with dirty-ratio and lag gauges, and their topic names: dropped when not owned.
  private final java.util.Map<TopicPartitionId, String> gauged =
      new java.util.concurrent.ConcurrentHashMap<>();

  public KeyCompactor(
      CompactionConfig config,
      KeyCompactionStore store,
      ObjectStore objects,
      PartitionLogs logs,
      StorageMetrics metrics,
      int nodeId,
      LongSupplier clock,
      BiConsumer<TopicPartitionId, Long> cleaned,
      CrashPoints crashPoints) {
    this.config = config;
    this.crashPoints = crashPoints;
    this.store = store;
    this.objects = objects;
    this.logs = logs;
    this.metrics = metrics;
    this.nodeId = nodeId;
    this.clock = clock;
    this.cleaned = cleaned;
  }

  /** What one run did. */
  public record Outcome(
      boolean cleaned,
      double dirtyRatio,
      long firstDirtyOffset,
      long cleanedOffset,
      int entriesRead,
      long bytesRead,
      long bytesWritten,
      int recordsRead,
      int recordsRetained,
      int objectsWritten) {

    static final Outcome NOTHING = new Outcome(false, 0, -1, -1, 0, 0, 0, 0, 0, 0);
  }

  /**
   * Cleans {@code tp} if its policy says a run is due, as owner {@code nodeId} at {@code
   * leaderEpoch}. Completes with what it did; nothing when the partition moved or changed
   * meanwhile.
   */
  public CompletableFuture<Outcome> clean(
      String topicName, TopicPartitionId tp, int leaderEpoch, KeyCompactionPolicy policy) {
    // A run of a large log can outlast the maintenance pass that started it; the next pass must not
    // start a second run of the same partition beside it.
    if (!policy.compact() || !running.add(tp)) {
      return CompletableFuture.completedFuture(Outcome.NOTHING);
    }
    return cleanOnce(topicName, tp, leaderEpoch, policy).whenComplete((o, t) -> running.remove(tp));
  }

  private CompletableFuture<Outcome> cleanOnce(
      String topicName, TopicPartitionId tp, int leaderEpoch, KeyCompactionPolicy policy) {
    return store
        .state(tp, nodeId, leaderEpoch, MAX_ENTRIES)
        .thenCompose(
            state -> {
              if (state.isEmpty()) {
                return CompletableFuture.completedFuture(Outcome.NOTHING);
              }
              OptionalLong lastStable = logs.lastStableOffset(tp);
              if (lastStable.isEmpty()) {
                return CompletableFuture.completedFuture(Outcome.NOTHING);
              }
              long now = clock.getAsLong();
              Optional<CleanableRange> range =
                  CleanableRange.of(
                      state.get().entries(),
                      state.get().firstDirtyOffset(),
                      lastStable.getAsLong(),
                      policy,
                      now);
              String partition = String.valueOf(tp.partition());
              gauged.put(tp, topicName);
              metrics.partitionGauge(
                  "diskless.key.compaction.dirty.ratio",
                  topicName,
                  tp.partition(),
                  range.map(CleanableRange::dirtyRatio).orElse(0.0));
              metrics.partitionGauge(
                  "diskless.key.compaction.lag.ms",
                  topicName,
                  tp.partition(),
                  range.map(r -> Math.max(0, now - r.oldestDirtyTimestamp())).orElse(0L));
              if (range.isEmpty() || !range.get().due()) {
                return CompletableFuture.completedFuture(Outcome.NOTHING);
              }
              long started = System.nanoTime();
              return run(topicName, tp, leaderEpoch, policy, state.get(), range.get(), now)
                  .whenComplete(
                      (o, t) -> {
                        String outcome = t != null ? "failed" : o.cleaned() ? "cleaned" : "refused";
                        metrics.partitionCount(
                            "diskless.key.compaction.runs",
                            topicName,
                            partition,
                            "outcome",
                            outcome,
                            1);
                        metrics.time(
                            "diskless.key.compaction.duration",
                            java.time.Duration.ofNanos(System.nanoTime() - started),
                            "outcome",
                            outcome);
                        if (t != null) {
                          LOG.warn(
                              "partition={} topic={} epoch={} key compaction failed: {}",
                              tp,
                              topicName,
                              leaderEpoch,
                              t.toString());
                        }
                      });
            });
  }

  /** Drops the gauges of partitions outside {@code owned} (moved away or deleted). */
  public void keepGaugesOf(java.util.Collection<TopicPartitionId> owned) {
    java.util.Set<TopicPartitionId> keep = java.util.Set.copyOf(owned);
    gauged
        .entrySet()
        .removeIf(
            e -> {
              if (keep.contains(e.getKey())) {
                return false;
              }
              metrics.removePartitionGauges(e.getValue(), e.getKey().partition());
              return true;
            });
  }

  private CompletableFuture<Outcome> run(
      String topicName,
      TopicPartitionId tp,
      int leaderEpoch,
      KeyCompactionPolicy policy,
      CleaningState state,
      CleanableRange range,
      long now) {
    List<IndexEntry> entries = state.entries();
    // Sized to the dirty bytes (a record takes a few bytes at least, even compressed), so a small
    // partition does not allocate the whole budget; a map too small only means more runs.
    KeyOffsetMap map =
        new KeyOffsetMap(
            Math.min(
                config.keyMapBytes(),
                Math.max(1024, range.dirtyBytes() / 4) * KeyOffsetMap.BYTES_PER_SLOT));
    Output out = new Output();
    out.startedNanos = System.nanoTime();
    AbortedBatches aborted =
        new AbortedBatches(
            logs.abortedTransactions(tp, entries.get(0).baseOffset(), range.endOffset()));
    return map(
            entries.subList(range.firstDirtyIndex(), range.endIndex()),
            map,
            aborted,
            state.firstDirtyOffset(),
            range.endOffset(),
            out)
        .thenCompose(
            mappedEnd -> {
              out.mappedKeys = map.size();
              out.mapBytes = map.memoryBytes();
              int last = range.endIndex();
              while (last > 0 && entries.get(last - 1).baseOffset() >= mappedEnd) {
                last--;
              }
              List<IndexEntry> replaced = entries.subList(0, last);
              return rewrite(tp, replaced, map, aborted, mappedEnd, policy, now, out)
                  .thenCompose(
                      written ->
                          swap(
                              topicName,
                              tp,
                              leaderEpoch,
                              state,
                              range,
                              replaced,
                              written,
                              mappedEnd,
                              out));
            });
  }

  /**
   * Maps the keys of records in {@code [from, end)} of {@code dirty}, reading one entry at a time;
   * completes with the offset mapping stopped at: {@code end}, or the first record whose new key
   * did not fit.
   */
  private CompletableFuture<Long> map(
      List<IndexEntry> dirty,
      KeyOffsetMap map,
      AbortedBatches aborted,
      long from,
      long end,
      Output out) {
    return eachEntry(
        dirty,
        end,
        (stop, bytes) -> {
          out.mapBytesRead += bytes.remaining();
          return CompletableFuture.completedFuture(map(bytes, map, aborted, from, end));
        },
        stop -> stop < end);
  }

  /**
   * Folds {@code step} over the bytes of {@code entries} in order, on the CPU thread, until {@code
   * done} holds. Each entry's read starts when the one before it starts being processed, so the
   * object store's latency overlaps the record work (at most two entries in memory).
   */
  private <S> CompletableFuture<S> eachEntry(
      List<IndexEntry> entries,
      S initial,
      BiFunction<S, ByteBuffer, CompletableFuture<S>> step,
      Predicate<S> done) {
    if (entries.isEmpty()) {
      return CompletableFuture.completedFuture(initial);
    }
    return eachEntry(entries, 0, read(entries.get(0)), initial, step, done);
  }

  private <S> CompletableFuture<S> eachEntry(
      List<IndexEntry> entries,
      int i,
      CompletableFuture<ByteBuffer> current,
      S state,
      BiFunction<S, ByteBuffer, CompletableFuture<S>> step,
      Predicate<S> done) {
    if (i == entries.size() || done.test(state)) {
      return CompletableFuture.completedFuture(state);
    }
    CompletableFuture<ByteBuffer> next = i + 1 < entries.size() ? read(entries.get(i + 1)) : null;
    return current
        .thenComposeAsync(bytes -> step.apply(state, bytes), cpu)
        .thenCompose(s -> eachEntry(entries, i + 1, next, s, step, done));
  }

  private CompletableFuture<ByteBuffer> read(IndexEntry e) {
    return objects.get(e.objectKey(), e.position(), e.size());
  }

  /**
   * Maps the keys of one entry's records in {@code [from, end)}, leaving out aborted transactions
   * (their records must never hide a committed one); returns where mapping stopped.
   */
  static long map(ByteBuffer entry, KeyOffsetMap map, AbortedBatches aborted, long from, long end) {
    for (MutableRecordBatch batch : MemoryRecords.readableRecords(entry.duplicate()).batches()) {
      if (batch.isControlBatch() || batch.lastOffset() < from || aborted.contains(batch)) {
        continue;
      }
      if (batch.baseOffset() >= end) {
        return end;
      }
      for (Record r : batch) {
        if (r.offset() < from) {
          continue;
        }
        if (r.offset() >= end) {
          return end;
        }
        if (r.hasKey() && !map.put(r.key(), r.offset())) {
          return r.offset();
        }
      }
    }
    return end;
  }

  /**
   * Rewrites {@code replaced}, entry by entry, into segment objects of about {@code
   * config.segmentBytes()}, each uploaded as it fills.
   */
  private CompletableFuture<List<CleanedObject>> rewrite(
      TopicPartitionId tp,
      List<IndexEntry> replaced,
      KeyOffsetMap map,
      AbortedBatches aborted,
      long mappedEnd,
      KeyCompactionPolicy policy,
      long now,
      Output out) {
    RecordFilter filter =
        new CleanerFilter(now, policy.deleteRetentionMs(), map, aborted, mappedEnd);
    CompletableFuture<List<CleanedObject>> done =
        eachEntry(
            replaced,
            new ArrayList<>(),
            (written, bytes) -> {
              out.append(filter(bytes, filter, out), mappedEnd);
              if (out.size() < config.segmentBytes()) {
                return CompletableFuture.completedFuture(written);
              }
              return upload(tp, out).thenApply(o -> add(written, o));
            },
            written -> false);
    return done.thenCompose(
        written ->
            out.size() == 0
                ? CompletableFuture.completedFuture(written)
                : upload(tp, out).thenApply(o -> add(written, o)));
  }

  private static List<CleanedObject> add(List<CleanedObject> list, CleanedObject o) {
    list.add(o);
    return list;
  }

  /** The batches of {@code input} that {@code filter} keeps, rewritten where it drops records. */
  private static ByteBuffer filter(ByteBuffer input, RecordFilter filter, Output stats) {
    ByteBuffer in = input.duplicate();
    ByteBuffer dest = ByteBuffer.allocate(Math.max(in.remaining(), 1024));
    while (in.hasRemaining()) {
      MemoryRecords.FilterResult r =
          MemoryRecords.readableRecords(in.slice())
              .filterTo(filter, dest, BufferSupplier.NO_CACHING, Integer.MAX_VALUE - 8);
      // filterTo returns early with a bigger buffer when a rewritten batch did not fit.
      dest = r.outputBuffer();
      stats.recordsRead += r.messagesRead();
      stats.recordsRetained += r.messagesRetained();
      if (r.bytesRead() == 0) {
        throw new IllegalStateException("no complete record batch in an index entry");
      }
      in.position(in.position() + r.bytesRead());
    }
    dest.flip();
    return dest;
  }

  private CompletableFuture<CleanedObject> upload(TopicPartitionId tp, Output out) {
    ByteBuffer data = out.drain();
    RecordBatch first = MemoryRecords.readableRecords(data.duplicate()).batches().iterator().next();
    String key =
        objects.keyPrefix()
            + "segments/"
            + tp.topicId()
            + "/"
            + tp.partition()
            + "/"
            + String.format("%020d", first.baseOffset())
            + "-compacted-"
            + UUID.randomUUID();
    // The cleaned part and the kept tail never share an index row, so that the next run's dirty
    // range (and its dirty ratio) starts exactly where this run stopped.
    int cut = out.drainedCut;
    List<IndexEntry> chunks = new ArrayList<>();
    if (cut > 0) {
      chunks.addAll(SegmentCompactor.chunk(data.duplicate().limit(cut), key, config.chunkBytes()));
    }
    chunks.addAll(
        SegmentCompactor.chunk(
            data.duplicate().position(Math.max(cut, 0)), key, config.chunkBytes()));
    if (out.firstPutNanos == 0) {
      out.firstPutNanos = System.nanoTime();
    }
    long size = data.remaining();
    return objects.put(key, data).thenApply(v -> new CleanedObject(key, size, chunks));
  }

  private CompletableFuture<Outcome> swap(
      String topicName,
      TopicPartitionId tp,
      int leaderEpoch,
      CleaningState state,
      CleanableRange range,
      List<IndexEntry> replaced,
      List<CleanedObject> written,
      long mappedEnd,
      Output out) {
    long bytesRead = replaced.stream().mapToLong(IndexEntry::size).sum();
    long bytesWritten = written.stream().mapToLong(CleanedObject::size).sum();
    List<String> keys = written.stream().map(CleanedObject::key).toList();
    // Past half the orphan grace the sweeper may already have removed what was uploaded first.
    boolean tooLate =
        out.firstPutNanos != 0
            && System.nanoTime() - out.firstPutNanos > config.orphanGrace().toNanos() / 2;
    boolean swapping = !replaced.isEmpty() && !tooLate;
    if (swapping) {
      crashPoints.reach(CrashPoints.KEY_COMPACTION_BEFORE_SWAP);
    }
    CompletableFuture<Boolean> swapped =
        swapping
            ? store.swap(tp, nodeId, leaderEpoch, replaced, written, mappedEnd)
            : CompletableFuture.completedFuture(false);
    return swapped.thenCompose(
        ok -> {
          if (!ok) {
            LOG.info(
                "partition={} topic={} epoch={} key compaction not applied (the log changed or the"
                    + " run took too long); new objects {} removed",
                tp,
                topicName,
                leaderEpoch,
                keys);
            return objects.delete(keys).thenApply(v -> Outcome.NOTHING);
          }
          cleaned.accept(tp, mappedEnd);
          String partition = String.valueOf(tp.partition());
          metrics.partitionCount(
              "diskless.key.compaction.bytes",
              topicName,
              partition,
              "direction",
              "read",
              bytesRead);
          metrics.partitionCount(
              "diskless.key.compaction.bytes",
              topicName,
              partition,
              "direction",
              "written",
              bytesWritten);
          metrics.partitionCount(
              "diskless.key.compaction.records",
              topicName,
              partition,
              "outcome",
              "removed",
              out.recordsRead - out.recordsRetained);
          LOG.info(
              "partition={} topic={} epoch={} key compaction cleaned offsets {}..{} (dirty from {},"
                  + " dirty ratio {}{}): {} records in {} entries, {} bytes -> {} records, {} bytes"
                  + " in {}; {} keys mapped in {} bytes from {} bytes read; {} ms",
              tp,
              topicName,
              leaderEpoch,
              state.logStartOffset(),
              mappedEnd - 1,
              state.firstDirtyOffset(),
              String.format("%.2f", range.dirtyRatio()),
              range.forced() ? ", forced by max.compaction.lag.ms" : "",
              out.recordsRead,
              replaced.size(),
              bytesRead,
              out.recordsRetained,
              bytesWritten,
              keys,
              out.mappedKeys,
              out.mapBytes,
              out.mapBytesRead,
              (System.nanoTime() - out.startedNanos) / 1_000_000);
          return CompletableFuture.completedFuture(
              new Outcome(
                  true,
                  range.dirtyRatio(),
                  state.firstDirtyOffset(),
                  mappedEnd,
                  replaced.size(),
                  bytesRead,
                  bytesWritten,
                  out.recordsRead,
                  out.recordsRetained,
                  written.size()));
        });
  }

  @Override
  public void close() {
    cpu.shutdownNow();
  }

  /** The output being assembled: cleaned batches not yet uploaded, and counts. */
  private static final class Output {
    private final List<ByteBuffer> parts = new ArrayList<>();
    private long pending;
    // Where, in the pending bytes, the first batch at or past the mapped end starts; -1 if none.
    private long cut = -1;
    // The cut of the bytes last drained, relative to them (-1: none).
    int drainedCut = -1;
    int recordsRead;
    int recordsRetained;
    long firstPutNanos;
    long startedNanos;
    int mappedKeys;
    long mapBytes;
    long mapBytesRead;

    /** Adds cleaned batches, noting where the kept tail (batches reaching {@code end}) begins. */
    void append(ByteBuffer b, long end) {
      if (!b.hasRemaining()) {
        return;
      }
      if (cut < 0) {
        for (RecordBatchHeader h : RecordBatches.headers(b.duplicate())) {
          if (h.lastOffset() >= end) {
            cut = pending + h.position() - b.position();
            break;
          }
        }
      }
      parts.add(b);
      pending += b.remaining();
    }

    long size() {
      return pending;
    }

    ByteBuffer drain() {
      ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(pending));
      parts.forEach(all::put);
      parts.clear();
      drainedCut = (int) cut;
      pending = 0;
      cut = cut < 0 ? -1 : 0;
      return all.flip();
    }
  }

  /**
   * Kafka's cleaner rule: a record at or past {@code mappedEnd} is kept as it is; before it, a
   * record is kept if no later record has its key and, for a tombstone, its batch's delete horizon
   * has not passed. Records without a key are dropped. Batches left empty are dropped; control
   * batches (transaction markers) are kept whole; batches of aborted transactions are dropped, as
   * Kafka's cleaner discards them.
   */
  private static final class CleanerFilter extends RecordFilter {
    private final KeyOffsetMap map;
    private final AbortedBatches aborted;
    private final long mappedEnd;

    CleanerFilter(
        long now,
        long deleteRetentionMs,
        KeyOffsetMap map,
        AbortedBatches aborted,
        long mappedEnd) {
      super(now, deleteRetentionMs);
      this.map = map;
      this.aborted = aborted;
      this.mappedEnd = mappedEnd;
    }

    @Override
    protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
      if (batch.isControlBatch()) {
        return new BatchRetentionResult(BatchRetention.RETAIN_EMPTY, false);
      }
      if (batch.baseOffset() < mappedEnd && aborted.contains(batch)) {
        return new BatchRetentionResult(BatchRetention.DELETE, false);
      }
      return new BatchRetentionResult(BatchRetention.DELETE_EMPTY, false);
    }

    @Override
    protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
      if (batch.isControlBatch() || record.offset() >= mappedEnd) {
        return true;
      }
      if (!record.hasKey()) {
        return false;
      }
      if (map.get(record.key()) > record.offset()) {
        return false;
      }
      if (record.hasValue()) {
        return true;
      }
      return batch.deleteHorizonMs().isEmpty() || currentTime < batch.deleteHorizonMs().getAsLong();
    }
  }
}
