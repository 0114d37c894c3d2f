package dev.diskless.storage.cache;

import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte ranges of objects, as read for catch-up consumers, kept in memory in least-recently-used
 * order up to a byte bound. Ranges are whole index entries (a WAL object's share of one partition,
 * or a chunk of a segment object), which is the unit every read asks for. Concurrent misses on one
 * range share a single GET. With {@code maxBytes == 0} every read goes to the object store. Losing
 * the cache loses nothing (invariant D3).
 */
public final class BlockCache {

  /** WAL objects up to this size are cached whole. */
  public static final long WHOLE_OBJECT_LIMIT = 16L << 20;

  private record Range(String key, long position, int length) {}

  private final ObjectStore store;
  private final long maxBytes;
  private final StorageMetrics metrics;
  private final LinkedHashMap<Range, ByteBuffer> lru = new LinkedHashMap<>(256, 0.75f, true);
  private final Map<Range, CompletableFuture<ByteBuffer>> inFlight = new ConcurrentHashMap<>();
  private long bytes;

  public BlockCache(ObjectStore store, long maxBytes, StorageMetrics metrics) {
    this.store = store;
    this.maxBytes = maxBytes;
    this.metrics = metrics;
    metrics.cacheSize("block", this::bytes);
  }

  public synchronized long bytes() {
    return bytes;
  }

  /**
   * Reads an index entry's bytes. With the cache on, a WAL object up to {@link #WHOLE_OBJECT_LIMIT}
   * is fetched whole, once, because it holds slices of many partitions that catch-up readers will
   * ask for next; segments are read entry by entry.
   */
  public CompletableFuture<ByteBuffer> read(LocatedEntry located) {
    IndexEntry e = located.entry();
    if (maxBytes > 0 && located.walObject() && located.objectSize() <= WHOLE_OBJECT_LIMIT) {
      return read(e.objectKey(), 0, (int) located.objectSize())
          .thenApply(whole -> whole.slice((int) e.position(), e.size()));
    }
    return read(e.objectKey(), e.position(), e.size());
  }

  /**
   * Starts loading an entry a sequential reader will probably ask for next; never fails its caller.
   */
  public void prefetch(LocatedEntry located) {
    IndexEntry e = located.entry();
    if (located.walObject() && located.objectSize() <= WHOLE_OBJECT_LIMIT) {
      prefetch(e.objectKey(), 0, (int) located.objectSize());
    } else {
      prefetch(e.objectKey(), e.position(), e.size());
    }
  }

  /** Reads {@code length} bytes of {@code key} at {@code position}, from memory when cached. */
  public CompletableFuture<ByteBuffer> read(String key, long position, int length) {
    Range range = new Range(key, position, length);
    synchronized (this) {
      ByteBuffer cached = lru.get(range);
      if (cached != null) {
        metrics.cacheLookup("block", true);
        return CompletableFuture.completedFuture(cached.duplicate());
      }
    }
    metrics.cacheLookup("block", false);
    return load(range).thenApply(ByteBuffer::duplicate);
  }

  /**
   * Starts loading a range that a sequential reader will probably ask for next; never fails its
   * caller.
   */
  public void prefetch(String key, long position, int length) {
    if (maxBytes == 0) {
      return;
    }
    Range range = new Range(key, position, length);
    synchronized (this) {
      if (lru.containsKey(range)) {
        return;
      }
    }
    load(range).exceptionally(t -> null);
  }

  private CompletableFuture<ByteBuffer> load(Range range) {
    CompletableFuture<ByteBuffer> created = new CompletableFuture<>();
    CompletableFuture<ByteBuffer> existing = inFlight.putIfAbsent(range, created);
    if (existing != null) {
      return existing;
    }
    CompletableFuture<ByteBuffer> get;
    try {
      get = store.get(range.key(), range.position(), range.length());
    } catch (RuntimeException e) {
      // A synchronous failure must not leave a never-completing entry that every later reader would
      // join.
      get = CompletableFuture.failedFuture(e);
    }
    get.whenComplete(
        (buf, t) -> {
          inFlight.remove(range);
          if (t != null) {
            created.completeExceptionally(t);
            return;
          }
          ByteBuffer readOnly = buf.asReadOnlyBuffer();
          insert(range, readOnly);
          created.complete(readOnly);
        });
    return created;
  }

  private synchronized void insert(Range range, ByteBuffer buf) {
    if (buf.remaining() > maxBytes) {
      return;
    }
    ByteBuffer previous = lru.put(range, buf);
    bytes += buf.remaining() - (previous == null ? 0 : previous.remaining());
    Iterator<Map.Entry<Range, ByteBuffer>> it = lru.entrySet().iterator();
    while (bytes > maxBytes && it.hasNext()) {
      bytes -= it.next().getValue().remaining();
      it.remove();
    }
  }
}
