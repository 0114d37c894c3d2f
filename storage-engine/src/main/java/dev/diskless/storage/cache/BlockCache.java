package dev.diskless.storage.cache;

import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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
 * Concurrent misses on one range share a single GET, and misses on ranges that lie side by side in
 * an object within a moment of each other share one GET up to a block: a fetch asks for all its
 * partitions at once, and their runs in a merged object are neighbours (16 partitions' runs of just
 * under 4 MiB in 64 MiB objects were a GET each). With {@code maxBytes == 0} every read goes to the
 * object store for exactly the entry. Losing the cache loses nothing (invariant D3).
 */
public final class BlockCache implements AutoCloseable {

  /** WAL objects up to this size are cached whole. */
  public static final long WHOLE_OBJECT_LIMIT = 16L << 20;

  /**
   * The grid on which segment objects are read: large enough that a GET's fixed cost (a request,
   * tens of milliseconds on S3, and about a millisecond of the SDK's CPU) is small against its
   * transfer, small enough that a reader who wants one chunk does not wait for much more. 8 MiB
   * against 4: 30 % fewer GETs per GB read after a restart, and 38 % less CPU in the store.
   */
  public static final int DEFAULT_BLOCK_BYTES = 8 << 20;

  /**
   * How long a miss waits for misses on the ranges beside it: a fetch's reads of its partitions
   * start within microseconds of each other once their index entries are known, but on busy cores
   * the thread issuing them is often preempted for a few milliseconds mid-way (a catch-up probe
   * joined 18–23 of 92 ranges with 1 ms, 32 with 5 ms); a GET takes tens of milliseconds.
   */
  private static final Duration DEFAULT_GATHER = Duration.ofMillis(5);

  /** Ranges read from the object store: with a GET of their own, or joined to a neighbour's. */
  private static final String RANGES_READ = "diskless.cache.block.ranges";

  private record Range(String key, long position, int length) {
    long end() {
      return position + length;
    }
  }

  /** A miss waiting for its GET. */
  private record Pending(Range range, CompletableFuture<ByteBuffer> result) {}

  /**
   * The bytes of one GET, in memory while any range cut from them is cached: the cache's size
   * counts these, not the ranges, so that it says what the heap holds.
   */
  private static final class Span {
    private final int bytes;
    private int cachedRanges;

    private Span(int bytes) {
      this.bytes = bytes;
    }
  }

  private record Cached(ByteBuffer bytes, Span span) {}

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
  private final long gatherNanos;

  /**
   * Starts gathered GETs: a thread of its own, since the JDK's shared timer hands the task to the
   * common pool, which other work may hold (one worker on two cores). None when the cache is off:
   * its misses are not gathered.
   */
  private final ScheduledExecutorService gatherTimer;

  private final StorageMetrics metrics;
  private final LinkedHashMap<Range, Cached> lru = new LinkedHashMap<>(256, 0.75f, true);
  private final Map<Range, CompletableFuture<ByteBuffer>> inFlight = new ConcurrentHashMap<>();
  // Guarded by this.
  private long bytes;
  private List<Pending> gathering = new ArrayList<>();

  public BlockCache(ObjectStore store, long maxBytes, StorageMetrics metrics) {
    this(store, maxBytes, DEFAULT_BLOCK_BYTES, metrics);
  }

  /** A cache that reads segment objects in blocks of {@code blockBytes}. */
  public BlockCache(ObjectStore store, long maxBytes, int blockBytes, StorageMetrics metrics) {
    this(store, maxBytes, blockBytes, DEFAULT_GATHER, metrics);
  }

  /** A cache whose misses wait up to {@code gather} for the misses beside them. */
  BlockCache(
      ObjectStore store, long maxBytes, int blockBytes, Duration gather, StorageMetrics metrics) {
    if (blockBytes < 1) {
      throw new IllegalArgumentException("blockBytes must be positive, got " + blockBytes);
    }
    this.store = store;
    this.maxBytes = maxBytes;
    this.blockBytes = blockBytes;
    this.gatherNanos = gather.toNanos();
    this.gatherTimer =
        maxBytes > 0
            ? Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("block-cache-gather").daemon().factory())
            : null;
    this.metrics = metrics;
    metrics.cacheSize("block", this::bytes);
    // Published before the first catch-up read, so that a dashboard shows zero rather than nothing.
    metrics.count(RANGES_READ, "get", "own", 0);
    metrics.count(RANGES_READ, "get", "joined", 0);
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
      Cached cached = lru.get(range);
      if (cached != null) {
        metrics.cacheLookup("block", true);
        return CompletableFuture.completedFuture(cached.bytes().duplicate());
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
    Pending miss = new Pending(range, created);
    synchronized (this) {
      // A load that ended after this caller missed the cache is in it now (it is cached before it
      // stops being in flight): a second GET would fetch the same bytes again.
      Cached cached = lru.get(range);
      if (cached != null) {
        inFlight.remove(range);
        created.complete(cached.bytes());
        return created;
      }
      // Close shuts the timer down under this lock, then starts what was gathered: a miss gathered
      // here is started either by the timer or by close.
      if (gatherTimer != null && !gatherTimer.isShutdown()) {
        gathering.add(miss);
        if (gathering.size() == 1) {
          gatherTimer.schedule(this::getGathered, gatherNanos, TimeUnit.NANOSECONDS);
        }
        return created;
      }
    }
    get(List.of(miss));
    return created;
  }

  /** Stops gathering; misses gathered so far get their GETs now, later ones at once. */
  @Override
  public void close() {
    if (gatherTimer == null) {
      return;
    }
    synchronized (this) {
      gatherTimer.shutdownNow();
    }
    getGathered();
  }

  /**
   * Starts the GETs of the misses gathered so far: ranges that follow each other in an object are
   * read in one GET, up to a block.
   */
  private void getGathered() {
    List<Pending> misses;
    synchronized (this) {
      misses = gathering;
      gathering = new ArrayList<>();
    }
    misses.sort(
        Comparator.comparing((Pending p) -> p.range().key())
            .thenComparingLong(p -> p.range().position()));
    List<Pending> span = new ArrayList<>();
    for (Pending miss : misses) {
      if (!span.isEmpty() && !continues(span, miss.range())) {
        get(span);
        span = new ArrayList<>();
      }
      span.add(miss);
    }
    if (!span.isEmpty()) {
      get(span);
    }
  }

  /** Whether {@code next} follows {@code span} in its object, and the GET stays within a block. */
  private boolean continues(List<Pending> span, Range next) {
    Range first = span.getFirst().range();
    Range last = span.getLast().range();
    return next.key().equals(first.key())
        && next.position() == last.end()
        && next.end() - first.position() <= blockBytes;
  }

  /** One GET of {@code span}'s ranges, which follow each other in one object, for all of them. */
  private void get(List<Pending> span) {
    Range first = span.getFirst().range();
    long start = first.position();
    int length = (int) (span.getLast().range().end() - start);
    CompletableFuture<ByteBuffer> get;
    try {
      metrics.count(RANGES_READ, "get", "own", 1);
      if (span.size() > 1) {
        metrics.count(RANGES_READ, "get", "joined", span.size() - 1);
      }
      get = store.get(first.key(), start, length);
    } catch (RuntimeException e) {
      // A synchronous failure must not leave never-completing entries that every later reader of
      // these ranges would join.
      get = CompletableFuture.failedFuture(e);
    }
    get.thenApply(buf -> cache(span, start, buf))
        .whenComplete(
            (parts, t) -> {
              for (int i = 0; i < span.size(); i++) {
                Pending miss = span.get(i);
                inFlight.remove(miss.range());
                if (t != null) {
                  miss.result().completeExceptionally(t);
                } else {
                  miss.result().complete(parts.get(i));
                }
              }
            });
  }

  /**
   * Cuts a GET of {@code span}'s ranges from {@code start} into one view per range and caches them
   * (before they stop being in flight: a reader in between would GET them again).
   */
  private List<ByteBuffer> cache(List<Pending> span, long start, ByteBuffer buf) {
    ByteBuffer whole = buf.asReadOnlyBuffer();
    List<ByteBuffer> parts = new ArrayList<>(span.size());
    for (Pending miss : span) {
      parts.add(
          whole.slice(
              whole.position() + (int) (miss.range().position() - start), miss.range().length()));
    }
    insert(span, parts, whole.remaining());
    return parts;
  }

  private synchronized void insert(List<Pending> span, List<ByteBuffer> parts, int getBytes) {
    if (getBytes > maxBytes) {
      return;
    }
    Span held = new Span(getBytes);
    bytes += getBytes;
    for (int i = 0; i < span.size(); i++) {
      held.cachedRanges++;
      Cached previous = lru.put(span.get(i).range(), new Cached(parts.get(i), held));
      if (previous != null) {
        release(previous);
      }
    }
    Iterator<Map.Entry<Range, Cached>> it = lru.entrySet().iterator();
    while (bytes > maxBytes && it.hasNext()) {
      Cached evicted = it.next().getValue();
      it.remove();
      release(evicted);
    }
  }

  /** A range leaves the cache; its GET's bytes do once no range of them is left. */
  private void release(Cached range) {
    if (--range.span().cachedRanges == 0) {
      bytes -= range.span().bytes;
    }
  }
}
