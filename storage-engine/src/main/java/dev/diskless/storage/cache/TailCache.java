package dev.diskless.storage.cache;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Recently committed chunks of every partition, so that consumers at the tail are served from
 * memory without an object-store GET. Tail data ages uniformly, so eviction is first-in first-out
 * across partitions. The cache holds only committed data and may lose anything at any time
 * (invariant D3).
 */
public final class TailCache {

  /** A cached chunk: the index entry and its bytes. */
  public record Chunk(IndexEntry entry, ByteBuffer bytes) {}

  private record Key(TopicPartitionId partition, long baseOffset) {}

  private final long maxBytes;
  private final StorageMetrics metrics;
  private final Map<TopicPartitionId, ConcurrentSkipListMap<Long, Chunk>> partitions =
      new ConcurrentHashMap<>();
  private final ArrayDeque<Key> order = new ArrayDeque<>();
  private long bytes;
  private long bytesAdded;

  public TailCache(long maxBytes, StorageMetrics metrics) {
    this.maxBytes = maxBytes;
    this.metrics = metrics;
    metrics.cacheSize("tail", this::bytes);
  }

  public synchronized long bytes() {
    return bytes;
  }

  /** Bytes put into the cache since it was made: how much was written, for merging while cached. */
  public synchronized long bytesAdded() {
    return bytesAdded;
  }

  public synchronized void put(TopicPartitionId tp, IndexEntry entry, ByteBuffer chunk) {
    if (chunk.remaining() > maxBytes) {
      return;
    }
    partitions
        .computeIfAbsent(tp, k -> new ConcurrentSkipListMap<>())
        .put(entry.baseOffset(), new Chunk(entry, chunk));
    order.addLast(new Key(tp, entry.baseOffset()));
    bytes += chunk.remaining();
    bytesAdded += chunk.remaining();
    while (bytes > maxBytes && !order.isEmpty()) {
      Key k = order.pollFirst();
      var map = partitions.get(k.partition());
      Chunk removed = map == null ? null : map.remove(k.baseOffset());
      if (removed != null) {
        bytes -= removed.bytes().remaining();
      }
    }
  }

  /**
   * The cached chunks that hold {@code offset} and the offsets after it, contiguously, up to about
   * {@code maxBytes}; empty on a miss (the chunk holding {@code offset} is not cached).
   */
  public List<Chunk> read(TopicPartitionId tp, long offset, int maxBytes) {
    var map = partitions.get(tp);
    Map.Entry<Long, Chunk> first = map == null ? null : map.floorEntry(offset);
    if (first == null || first.getValue().entry().lastOffset() < offset) {
      metrics.cacheLookup("tail", false);
      return List.of();
    }
    metrics.cacheLookup("tail", true);
    List<Chunk> out = new ArrayList<>();
    Chunk current = first.getValue();
    long total = 0;
    while (current != null) {
      out.add(current);
      total += current.bytes().remaining();
      if (total >= maxBytes) {
        break;
      }
      Chunk next = map.get(current.entry().lastOffset() + 1);
      current = next;
    }
    return out;
  }

  /**
   * The cached bytes of exactly {@code entry} (the same range of the same object), if they are
   * still cached: segment compaction merges these without a GET. A view of its own, so the caller
   * may consume it.
   */
  public Optional<ByteBuffer> bytesOf(TopicPartitionId tp, IndexEntry entry) {
    var map = partitions.get(tp);
    Chunk c = map == null ? null : map.get(entry.baseOffset());
    if (c == null
        || c.entry().position() != entry.position()
        || c.entry().size() != entry.size()
        || !c.entry().objectKey().equals(entry.objectKey())) {
      return Optional.empty();
    }
    return Optional.of(c.bytes().duplicate());
  }

  /**
   * Files the cached chunks that hold exactly {@code entry}'s offsets under {@code entry}, the
   * place in object storage of the same bytes ({@code chunk}): the volume WAL caches its appends
   * before they are uploaded, and merges find cached bytes by that place ({@link #bytesOf}). Only
   * when all of them are still cached; they keep the oldest one's turn in the eviction order (the
   * order's later keys then name nothing, and evicting them is a no-op).
   */
  public synchronized void relocate(TopicPartitionId tp, IndexEntry entry, ByteBuffer chunk) {
    var map = partitions.get(tp);
    if (map == null) {
      return;
    }
    List<Long> replaced = new ArrayList<>();
    long covered = 0;
    long next = entry.baseOffset();
    while (next <= entry.lastOffset()) {
      Chunk c = map.get(next);
      if (c == null) {
        return;
      }
      replaced.add(next);
      covered += c.bytes().remaining();
      next = c.entry().lastOffset() + 1;
    }
    if (next != entry.lastOffset() + 1 || covered != chunk.remaining()) {
      return;
    }
    // The new chunk first: a reader walking from the first offset then skips the others at once,
    // and one that starts inside them finds either the old chunk or the new one below it.
    map.put(entry.baseOffset(), new Chunk(entry, chunk));
    for (int i = 1; i < replaced.size(); i++) {
      map.remove(replaced.get(i));
    }
  }

  /**
   * Drops a partition's chunks that hold offsets below {@code offset}: key compaction rewrote that
   * range, and readers should see the rewritten log from the index. (The eviction order may still
   * name the dropped chunks; evicting a missing chunk is a no-op.)
   */
  public synchronized void invalidateBelow(TopicPartitionId tp, long offset) {
    var map = partitions.get(tp);
    if (map == null) {
      return;
    }
    var below = map.headMap(offset);
    for (Chunk c : below.values()) {
      bytes -= c.bytes().remaining();
    }
    below.clear();
  }

  /** Drops a partition's chunks, e.g. when it moves to another broker or is truncated. */
  public synchronized void invalidate(TopicPartitionId tp) {
    var map = partitions.remove(tp);
    if (map != null) {
      for (Chunk c : map.values()) {
        bytes -= c.bytes().remaining();
      }
      order.removeIf(k -> k.partition().equals(tp));
    }
  }
}
