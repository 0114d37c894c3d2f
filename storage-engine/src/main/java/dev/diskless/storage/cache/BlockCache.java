package dev.diskless.storage.cache;

import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte ranges of objects, as read for catch-up consumers, kept in memory in least-recently-used
 * order up to a byte bound. A small WAL object is read whole (it holds slices of many partitions
 * that catch-up readers ask for next); a segment object is read in pieces of about {@link
 * #DEFAULT_BLOCK_BYTES}, whatever index entry a reader asks for, so catch-up GETs are large, every
 * reader of any entry in a piece shares its one GET, and the next piece is already loading when a
 * sequential reader gets there. Where the look-up saw a partition's run of entries in a merged
 * object of at least an eighth of a block, the pieces tile that run alone: on the object's grid a
 * block also carries the neighbouring partitions' runs, which their readers, each at its own pace,
 * may reach after the block has been evicted or never (a catch-up probe reading 307 MB of 16
 * partitions: 542–592 MB of GETs on the grid, 418–425 MB with runs read alone). Shorter runs are
 * read on the object's grid, shared with the runs beside them, so that GETs stay large; a grid
 * block and a run's piece overlapping would fetch the same bytes twice, so the bound is low.
 * Concurrent misses on one range share a single GET. With {@code maxBytes == 0} every read goes to
 * the object store for exactly the entry. Losing the cache loses nothing (invariant D3).
 */
public final class BlockCache {

  /** WAL objects up to this size are cached whole. */
  public static final long WHOLE_OBJECT_LIMIT = 16L << 20;

  /**
   * The grid on which segment objects are read: large enough that a GET's fixed cost (a request,
   * tens of milliseconds on S3, and about a millisecond of the SDK's CPU) is small against its
   * transfer, small enough that a reader who wants one chunk does not wait for much more. 8 MiB
   * against 4: 30 % fewer GETs per GB read after a restart, and 38 % less CPU in the store.
   */
  public static final int DEFAULT_BLOCK_BYTES = 8 << 20;

  private record Range(String key, long position, int length) {}

  /**
   * How the bytes {@code [origin, end)} of an object are cut into the pieces that are read and
   * cached: {@code size} bytes each from {@code origin}; with {@code absorbTail} a last piece
   * shorter than half of {@code size} is joined to the one before it instead of costing a GET of
   * its own.
   */
  private record Tiling(long origin, long end, int size, boolean absorbTail) {
    long count() {
      long length = end - origin;
      long whole = length / size;
      long tail = length % size;
      return whole == 0 || (tail > 0 && (!absorbTail || tail >= size / 2)) ? whole + 1 : whole;
    }

    long index(long position) {
      return Math.min((position - origin) / size, count() - 1);
    }

    long start(long index) {
      return origin + index * size;
    }

    int length(long index) {
      return (int) ((index == count() - 1 ? end : start(index) + size) - start(index));
    }
  }

  private final ObjectStore store;
  private final long maxBytes;
  private final int blockBytes;
  private final StorageMetrics metrics;
  private final LinkedHashMap<Range, ByteBuffer> lru = new LinkedHashMap<>(256, 0.75f, true);
  private final Map<Range, CompletableFuture<ByteBuffer>> inFlight = new ConcurrentHashMap<>();
  private long bytes;

  public BlockCache(ObjectStore store, long maxBytes, StorageMetrics metrics) {
    this(store, maxBytes, DEFAULT_BLOCK_BYTES, metrics);
  }

  /** A cache that reads segment objects in blocks of {@code blockBytes}. */
  public BlockCache(ObjectStore store, long maxBytes, int blockBytes, StorageMetrics metrics) {
    if (blockBytes < 1) {
      throw new IllegalArgumentException("blockBytes must be positive, got " + blockBytes);
    }
    this.store = store;
    this.maxBytes = maxBytes;
    this.blockBytes = blockBytes;
    this.metrics = metrics;
    metrics.cacheSize("block", this::bytes);
  }

  public synchronized long bytes() {
    return bytes;
  }

  /**
   * Reads an index entry's bytes. With the cache on, a WAL object up to {@link #WHOLE_OBJECT_LIMIT}
   * is fetched whole, once; a segment's entry comes from the pieces that hold it, and the piece
   * after them starts loading.
   */
  public CompletableFuture<ByteBuffer> read(LocatedEntry located) {
    IndexEntry e = located.entry();
    if (maxBytes > 0 && located.walObject() && located.objectSize() <= WHOLE_OBJECT_LIMIT) {
      return read(e.objectKey(), 0, (int) located.objectSize())
          .thenApply(whole -> whole.slice((int) e.position(), e.size()));
    }
    if (maxBytes > 0 && !located.walObject() && e.size() > 0) {
      return readFromPieces(e, tiling(located));
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
    } else if (!located.walObject() && e.size() > 0) {
      Tiling tiling = tiling(located);
      for (long p = tiling.index(e.position());
          p <= tiling.index(e.position() + e.size() - 1);
          p++) {
        prefetchPiece(e.objectKey(), tiling, p);
      }
    } else {
      prefetch(e.objectKey(), e.position(), e.size());
    }
  }

  /**
   * The pieces a segment's entry is read in: its run's own when the look-up saw a run worth a GET
   * of its own, else the object's grid.
   */
  private Tiling tiling(LocatedEntry located) {
    long run = located.runEnd() - located.runStart();
    return run >= blockBytes / 8
        ? new Tiling(located.runStart(), located.runEnd(), blockBytes, true)
        : new Tiling(0, located.objectSize(), blockBytes, false);
  }

  private CompletableFuture<ByteBuffer> piece(String key, Tiling tiling, long index) {
    return read(key, tiling.start(index), tiling.length(index));
  }

  private void prefetchPiece(String key, Tiling tiling, long index) {
    if (index < tiling.count()) {
      prefetch(key, tiling.start(index), tiling.length(index));
    }
  }

  private CompletableFuture<ByteBuffer> readFromPieces(IndexEntry e, Tiling tiling) {
    long first = tiling.index(e.position());
    long last = tiling.index(e.position() + e.size() - 1);
    prefetchPiece(e.objectKey(), tiling, last + 1);
    if (first == last) {
      int offset = (int) (e.position() - tiling.start(first));
      return piece(e.objectKey(), tiling, first).thenApply(b -> b.slice(offset, e.size()));
    }
    // The entry straddles pieces: join its parts (the one copy on this path).
    List<CompletableFuture<ByteBuffer>> parts = new ArrayList<>();
    for (long p = first; p <= last; p++) {
      parts.add(piece(e.objectKey(), tiling, p));
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              ByteBuffer out = ByteBuffer.allocate(e.size());
              long end = e.position() + e.size();
              for (int i = 0; i < parts.size(); i++) {
                long pieceStart = tiling.start(first + i);
                ByteBuffer part = parts.get(i).join().duplicate();
                int from = (int) Math.max(0, e.position() - pieceStart);
                int to = (int) Math.min(part.limit(), end - pieceStart);
                out.put(part.limit(to).position(from));
              }
              return out.flip().asReadOnlyBuffer();
            });
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
    synchronized (this) {
      // A load that ended after this caller missed the cache is in it now (it is cached before it
      // stops being in flight): a second GET would fetch the same bytes again.
      ByteBuffer cached = lru.get(range);
      if (cached != null) {
        inFlight.remove(range);
        created.complete(cached);
        return created;
      }
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
          if (t != null) {
            inFlight.remove(range);
            created.completeExceptionally(t);
            return;
          }
          ByteBuffer readOnly = buf.asReadOnlyBuffer();
          // Cached before it stops being in flight: a reader in between would GET it again.
          insert(range, readOnly);
          inFlight.remove(range);
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
