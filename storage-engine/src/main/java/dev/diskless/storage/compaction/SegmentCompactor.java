package dev.diskless.storage.compaction;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.cache.TailCache;
import dev.diskless.storage.metadata.CompactionStore;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges a partition's small WAL entries (each a slice of a multi-partition WAL object) into one
 * per-partition segment object, so that catch-up reads are few large sequential GETs. The segment
 * is uploaded first and then swapped in by one metadata transaction; if the run changed meanwhile
 * the swap is refused and the segment deleted. Superseded WAL objects are deleted after a grace
 * period once no partition references them. Entries still in the tail cache are merged from memory:
 * compaction usually runs on data a few seconds old, and a GET of it would cost a request and the
 * CPU to receive it again. Runs whose oldest entry has left the cache are {@link
 * WalGroupCompactor}'s.
 */
public final class SegmentCompactor {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentCompactor.class);

  private final CompactionConfig config;
  private final CompactionStore store;
  private final ObjectStore objects;
  private final TailCache tailCache;
  private final StorageMetrics metrics;
  private final int nodeId;

  public SegmentCompactor(
      CompactionConfig config,
      CompactionStore store,
      ObjectStore objects,
      TailCache tailCache,
      StorageMetrics metrics,
      int nodeId) {
    this.config = config;
    this.store = store;
    this.objects = objects;
    this.tailCache = tailCache;
    this.metrics = metrics;
    this.nodeId = nodeId;
  }

  /**
   * Compacts the partition's oldest run of WAL entries if it holds at least the configured bytes.
   */
  public CompletableFuture<Boolean> compact(TopicPartitionId tp) {
    return store
        .walRun(tp, config.segmentBytes())
        .thenCompose(
            run -> {
              long bytes = run.stream().mapToLong(IndexEntry::size).sum();
              if (run.size() < 2 || bytes < config.minWalBytes()) {
                return CompletableFuture.completedFuture(false);
              }
              if (tailCache.bytesOf(tp, run.get(0)).isEmpty()) {
                // Left the cache: merged with every partition of its WAL objects by
                // WalGroupCompactor, one GET per object rather than one per partition and object.
                return CompletableFuture.completedFuture(false);
              }
              return merge(tp, run, bytes);
            });
  }

  private CompletableFuture<Boolean> merge(TopicPartitionId tp, List<IndexEntry> run, long bytes) {
    List<CompletableFuture<ByteBuffer>> reads = new ArrayList<>(run.size());
    long fromCache = 0;
    for (IndexEntry e : run) {
      Optional<ByteBuffer> cached = tailCache.bytesOf(tp, e);
      if (cached.isPresent()) {
        reads.add(CompletableFuture.completedFuture(cached.get()));
        fromCache += e.size();
      } else {
        reads.add(objects.get(e.objectKey(), e.position(), e.size()));
      }
    }
    metrics.count("diskless.compaction.read.bytes", "source", "cache", fromCache);
    metrics.count("diskless.compaction.read.bytes", "source", "object-store", bytes - fromCache);
    String key =
        objects.keyPrefix()
            + "segments/"
            + tp.topicId()
            + "/"
            + tp.partition()
            + "/"
            + String.format("%020d", run.get(0).baseOffset())
            + "-"
            + UUID.randomUUID();
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenCompose(
            v -> {
              ByteBuffer segment = ByteBuffer.allocate(Math.toIntExact(bytes));
              reads.forEach(r -> segment.put(r.join()));
              segment.flip();
              List<IndexEntry> chunks = chunk(segment, key, config.chunkBytes());
              long putStart = System.nanoTime();
              return objects
                  .put(key, segment.duplicate())
                  .thenCompose(
                      x -> {
                        // Past half the orphan grace the sweeper may already have removed the
                        // segment.
                        if (System.nanoTime() - putStart > config.orphanGrace().toNanos() / 2) {
                          return CompletableFuture.completedFuture(false);
                        }
                        return store.swap(tp, run, key, bytes, chunks, nodeId);
                      })
                  .thenCompose(
                      swapped -> {
                        if (!swapped) {
                          LOG.info(
                              "partition={} object_key={} compaction lost a race; segment removed",
                              tp,
                              key);
                          return objects.delete(List.of(key)).thenApply(y -> false);
                        }
                        metrics.count("diskless.compaction.bytes", "kind", "segment", bytes);
                        LOG.info(
                            "partition={} object_key={} compacted {} WAL entries, offsets {}..{}, {} bytes, {} chunks",
                            tp,
                            key,
                            run.size(),
                            run.get(0).baseOffset(),
                            run.get(run.size() - 1).lastOffset(),
                            bytes,
                            chunks.size());
                        return CompletableFuture.completedFuture(true);
                      });
            });
  }

  /**
   * Cuts the batches between {@code segment}'s position and limit into index entries of about
   * {@code chunkBytes}, at batch boundaries. Positions are those in the whole buffer.
   */
  static List<IndexEntry> chunk(ByteBuffer segment, String key, int chunkBytes) {
    return chunk(segment, key, chunkBytes, false);
  }

  /**
   * As {@link #chunk(ByteBuffer, String, int)}; with {@code splitAtGaps} an index entry also ends
   * wherever offsets jump (where the missing offsets live in another index entry). A key-compacted
   * range has gaps by design and keeps its chunks whole.
   */
  static List<IndexEntry> chunk(
      ByteBuffer segment, String key, int chunkBytes, boolean splitAtGaps) {
    List<IndexEntry> chunks = new ArrayList<>();
    List<RecordBatchHeader> headers = RecordBatches.headers(segment);
    int start = 0;
    while (start < headers.size()) {
      int end = start;
      long size = 0;
      long maxTimestamp = -1;
      do {
        size += headers.get(end).sizeInBytes();
        maxTimestamp = Math.max(maxTimestamp, headers.get(end).maxTimestamp());
        end++;
      } while (end < headers.size()
          && size + headers.get(end).sizeInBytes() <= chunkBytes
          && (!splitAtGaps
              || headers.get(end).baseOffset() == headers.get(end - 1).lastOffset() + 1));
      RecordBatchHeader first = headers.get(start);
      RecordBatchHeader last = headers.get(end - 1);
      chunks.add(
          new IndexEntry(
              first.baseOffset(),
              last.lastOffset(),
              maxTimestamp,
              end - start,
              key,
              first.position(),
              (int) size));
      start = end;
    }
    return chunks;
  }
}
