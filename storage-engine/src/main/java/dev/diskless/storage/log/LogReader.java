package dev.diskless.storage.log;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.cache.BlockCache;
import dev.diskless.storage.cache.IndexCache;
import dev.diskless.storage.cache.TailCache;
import dev.diskless.storage.metadata.AbortedTransaction;
import dev.diskless.storage.metadata.AbortedTransactions;
import dev.diskless.storage.metadata.BatchIndex;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metrics.StorageMetrics;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The read side: committed batches of any partition, from the tail cache when the chunk is there,
 * otherwise from the batch index and ranged reads through the block cache. Nothing at or above the
 * high watermark is ever returned (invariant D2), and batches are never split.
 */
public final class LogReader {

  /** Index rows fetched per look-up; a read never scans more. */
  private static final int INDEX_ROWS_PER_READ = 64;

  /**
   * Index entries beyond the requested bytes that are loaded in the background for a sequential
   * reader.
   */
  private static final int READ_AHEAD_ENTRIES = 1;

  private final PartitionLogs logs;
  private final PartitionOwnership ownership;
  private final AbortedTransactions abortedTransactions;
  private final BatchIndex index;
  private final TailCache tailCache;
  private final BlockCache blockCache;
  private final IndexCache indexCache;
  private final StorageMetrics metrics;

  public LogReader(
      PartitionLogs logs,
      PartitionOwnership ownership,
      AbortedTransactions abortedTransactions,
      BatchIndex index,
      TailCache tailCache,
      BlockCache blockCache,
      IndexCache indexCache,
      StorageMetrics metrics) {
    this.logs = logs;
    this.ownership = ownership;
    this.abortedTransactions = abortedTransactions;
    this.index = index;
    this.tailCache = tailCache;
    this.blockCache = blockCache;
    this.indexCache = indexCache;
    this.metrics = metrics;
  }

  /** The committed bounds: from memory when this engine owns the partition, else from metadata. */
  public CompletableFuture<PartitionMetadata> bounds(TopicPartitionId tp) {
    Optional<PartitionMetadata> local = logs.local(tp);
    return local.isPresent()
        ? CompletableFuture.completedFuture(local.get())
        : ownership.describe(tp);
  }

  /**
   * Reads batches holding {@code offset} and after, up to about {@code maxBytes} (at least one
   * whole batch). Fails with {@link Kind#OFFSET_OUT_OF_RANGE} outside [log start offset, high
   * watermark].
   */
  public CompletableFuture<ReadResult> read(TopicPartitionId tp, long offset, int maxBytes) {
    return bounds(tp).thenCompose(meta -> read(meta, offset, maxBytes));
  }

  /**
   * As {@link #read(TopicPartitionId, long, int)}, within {@code meta}'s bounds as the caller
   * already has them (a read replica checks the partition's leader epoch in the same look-up).
   */
  public CompletableFuture<ReadResult> read(PartitionMetadata meta, long offset, int maxBytes) {
    long stable = logs.lastStableOffset(meta.partition()).orElse(meta.highWatermark());
    return read(meta, offset, maxBytes, meta.highWatermark(), stable);
  }

  /**
   * Reads committed data only (Kafka's read_committed): batches below the last stable offset, and
   * the aborted transactions overlapping them, whose records the consumer skips. The owner knows
   * both in memory; any other broker reads them from the metadata store ({@link
   * AbortedTransactions#stableView}).
   */
  public CompletableFuture<ReadResult> readCommitted(
      TopicPartitionId tp, long offset, int maxBytes) {
    Optional<PartitionMetadata> local = logs.local(tp);
    if (local.isEmpty()) {
      return abortedTransactions
          .stableView(tp, offset)
          .thenCompose(view -> readCommitted(view, offset, maxBytes));
    }
    PartitionMetadata meta = local.get();
    long stable = logs.lastStableOffset(tp).orElse(meta.highWatermark());
    return readStable(
        meta, offset, maxBytes, stable, upper -> logs.abortedTransactions(tp, offset, upper));
  }

  /**
   * The bounds, last stable offset and aborted transactions of a partition this engine need not
   * own, from the metadata store: a read replica checks the leader epoch in them before reading.
   */
  public CompletableFuture<AbortedTransactions.StableView> stableView(
      TopicPartitionId tp, long offset) {
    return abortedTransactions.stableView(tp, offset);
  }

  /** As {@link #readCommitted(TopicPartitionId, long, int)}, within {@code view}. */
  public CompletableFuture<ReadResult> readCommitted(
      AbortedTransactions.StableView view, long offset, int maxBytes) {
    return readStable(
        view.meta(),
        offset,
        maxBytes,
        view.lastStableOffset(),
        upper ->
            view.aborted().stream()
                .filter(a -> a.lastOffset() >= offset && a.firstOffset() < upper)
                .toList());
  }

  /**
   * Reads below {@code stable} and adds the aborted transactions overlapping what was read, which
   * {@code abortedBelow} gives for the offset after the last batch returned.
   */
  private CompletableFuture<ReadResult> readStable(
      PartitionMetadata meta,
      long offset,
      int maxBytes,
      long stable,
      java.util.function.LongFunction<List<AbortedTransaction>> abortedBelow) {
    return read(meta, offset, maxBytes, stable, stable)
        .thenApply(
            r ->
                r.isEmpty()
                    ? r
                    : new ReadResult(
                        r.highWatermark(),
                        r.logStartOffset(),
                        stable,
                        r.runs(),
                        abortedBelow.apply(r.lastOffset() + 1)));
  }

  /**
   * Reads batches from {@code offset} below {@code upTo} (the high watermark, or the last stable
   * offset for committed data only); the offset itself may lie up to the high watermark.
   */
  private CompletableFuture<ReadResult> read(
      PartitionMetadata meta, long offset, int maxBytes, long upTo, long stable) {
    long hw = meta.highWatermark();
    long lso = meta.logStartOffset();
    if (offset < lso || offset > hw) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Kind.OFFSET_OUT_OF_RANGE,
              "offset "
                  + offset
                  + " of "
                  + meta.partition()
                  + " is outside ["
                  + lso
                  + ", "
                  + hw
                  + "]"));
    }
    if (offset >= upTo) {
      return CompletableFuture.completedFuture(ReadResult.empty(hw, lso, stable));
    }
    List<TailCache.Chunk> cached = tailCache.read(meta.partition(), offset, maxBytes);
    if (!cached.isEmpty()) {
      List<ByteBuffer> chunks = new ArrayList<>(cached.size());
      cached.forEach(c -> chunks.add(c.bytes()));
      return CompletableFuture.completedFuture(
          assemble(chunks, offset, upTo, hw, lso, stable, maxBytes));
    }
    TopicPartitionId tp = meta.partition();
    Optional<List<LocatedEntry>> known = indexCache.entries(tp, offset, upTo, maxBytes);
    // Entries from an earlier look-up name bytes that stay readable well past the cache's life; if
    // a read through them fails all the same, the index is asked again.
    CompletableFuture<List<ByteBuffer>> chunks =
        known.isEmpty()
            ? lookUpAndFetch(tp, offset, upTo, maxBytes)
            : fetch(known.get(), maxBytes)
                .exceptionallyCompose(
                    t -> {
                      indexCache.invalidate(tp);
                      return lookUpAndFetch(tp, offset, upTo, maxBytes);
                    });
    return chunks.thenApply(c -> assemble(c, offset, upTo, hw, lso, stable, maxBytes));
  }

  private CompletableFuture<List<ByteBuffer>> lookUpAndFetch(
      TopicPartitionId tp, long offset, long upTo, int maxBytes) {
    return index
        .find(tp, offset, upTo, INDEX_ROWS_PER_READ)
        .thenCompose(
            found -> {
              // Runs are seen here, in the whole look-up; a read uses a few of its entries.
              List<LocatedEntry> entries = LocatedEntry.withRuns(found);
              indexCache.put(tp, offset, upTo, entries, INDEX_ROWS_PER_READ);
              return fetch(entries, maxBytes);
            });
  }

  private CompletableFuture<List<ByteBuffer>> fetch(List<LocatedEntry> entries, int maxBytes) {
    List<CompletableFuture<ByteBuffer>> reads = new ArrayList<>();
    long total = 0;
    int i = 0;
    for (; i < entries.size() && total < maxBytes; i++) {
      LocatedEntry e = entries.get(i);
      reads.add(blockCache.read(e));
      total += e.entry().size();
    }
    for (int ahead = 0; i < entries.size() && ahead < READ_AHEAD_ENTRIES; i++, ahead++) {
      blockCache.prefetch(entries.get(i));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(v -> reads.stream().map(CompletableFuture::join).toList());
  }

  /**
   * Whole batches that hold offsets in [offset, upTo), within maxBytes except for the first one, as
   * one view per chunk they lie in: neither the tail cache's chunks (one per partition per WAL
   * flush, several in a tail read) nor the blocks behind index chunks are copied to be read.
   */
  private ReadResult assemble(
      List<ByteBuffer> chunks,
      long offset,
      long upTo,
      long hw,
      long lso,
      long stable,
      int maxBytes) {
    List<ByteBuffer> runs = new ArrayList<>(chunks.size());
    long total = 0;
    for (ByteBuffer chunk : chunks) {
      int from = -1;
      int to = -1;
      boolean full = false;
      for (RecordBatchHeader h : RecordBatches.headers(chunk)) {
        if (h.lastOffset() < offset) {
          continue;
        }
        if (h.baseOffset() >= upTo || (total > 0 && total + h.sizeInBytes() > maxBytes)) {
          full = true;
          break;
        }
        if (from < 0) {
          from = h.position();
        }
        to = h.position() + h.sizeInBytes();
        total += h.sizeInBytes();
      }
      if (from >= 0) {
        runs.add(chunk.duplicate().limit(to).position(from).slice());
      }
      if (full) {
        break;
      }
    }
    metrics.bytesOut(total);
    return new ReadResult(hw, lso, stable, runs, List.of());
  }

  /**
   * The batches of the first index entry at or after {@code fromOffset} that hold a record with a
   * timestamp at or after {@code timestamp}, starting from the first such batch. The caller finds
   * the exact record in them.
   */
  public CompletableFuture<Optional<ByteBuffer>> batchesForTimestamp(
      TopicPartitionId tp, long timestamp) {
    return batchesOf(tp, logStart -> index.firstWithTimestamp(tp, logStart, timestamp), timestamp);
  }

  /**
   * The committed batches of the index entry holding the partition's largest timestamp (the
   * earliest such entry), for ListOffsets MAX_TIMESTAMP; the caller finds the record in them.
   * Batches before the log start are left out.
   */
  public CompletableFuture<Optional<ByteBuffer>> batchesWithMaxTimestamp(TopicPartitionId tp) {
    return batchesOf(tp, logStart -> index.withMaxTimestamp(tp, logStart), Long.MIN_VALUE);
  }

  /**
   * The batches of the committed index entry {@code find} gives for the log start, from the first
   * batch with a timestamp at or after {@code timestamp}.
   */
  private CompletableFuture<Optional<ByteBuffer>> batchesOf(
      TopicPartitionId tp,
      java.util.function.LongFunction<CompletableFuture<Optional<LocatedEntry>>> find,
      long timestamp) {
    return bounds(tp)
        .thenCompose(
            meta ->
                find.apply(meta.logStartOffset())
                    .thenCompose(
                        entry -> {
                          if (entry.isEmpty()
                              || entry.get().entry().baseOffset() >= meta.highWatermark()) {
                            return CompletableFuture.completedFuture(Optional.<ByteBuffer>empty());
                          }
                          return blockCache
                              .read(entry.get())
                              .thenApply(
                                  chunk -> Optional.of(fromTimestamp(chunk, timestamp, meta)));
                        }));
  }

  private static ByteBuffer fromTimestamp(
      ByteBuffer chunk, long timestamp, PartitionMetadata meta) {
    for (RecordBatchHeader h : RecordBatches.headers(chunk)) {
      if (h.maxTimestamp() >= timestamp && h.lastOffset() >= meta.logStartOffset()) {
        ByteBuffer slice = chunk.duplicate();
        slice.position(h.position());
        return slice.slice();
      }
    }
    return ByteBuffer.allocate(0);
  }
}
