package dev.diskless.storage.compaction;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.cache.TailCache;
import dev.diskless.storage.metadata.CompactionStore;
import dev.diskless.storage.metadata.CompactionStore.PartitionEntry;
import dev.diskless.storage.metadata.CompactionStore.WalObject;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the oldest WAL objects whose entries have left the tail cache into one object sorted by
 * partition, so each partition's data in it is one contiguous range. Every WAL object holds a slice
 * of every partition written at the time: compacting partition by partition would read each object
 * once per partition in small ranged GETs, which is what a catch-up consumer then competes with.
 * Here each object is read once, in one GET of the range holding this broker's partitions, and
 * written once. Each partition's share is swapped in by its own metadata transaction (the same
 * exact-match rule as {@link SegmentCompactor}); a partition whose entries changed meanwhile
 * (retention, a new owner's compaction) is left out and its bytes in the merged object stay dead.
 * Entries of partitions other brokers own are left to them. Entries still in the tail cache are
 * left to {@link SegmentCompactor}, which merges them from memory into per-partition segments.
 */
public final class WalGroupCompactor {

  private static final Logger LOG = LoggerFactory.getLogger(WalGroupCompactor.class);

  /**
   * Oldest WAL objects read each time a group is picked: about 1 MiB each under load (a group is
   * about 64 of them), fewer bytes each when traffic is light.
   */
  static final int OBJECTS_PER_LOOK = 256;

  /**
   * The slowest pace of merging: a pass's backlog is spread over its interval, but no slower; and
   * the pace of merging while cached once writes stop.
   */
  static final long MIN_BYTES_PER_SECOND = 16L << 20;

  /** GETs in flight at once, so a merge does not take every connection from readers. */
  private static final int PARALLEL_READS = 4;

  private final CompactionConfig config;
  private final CompactionStore store;
  private final ObjectStore objects;
  private final TailCache tailCache;
  private final StorageMetrics metrics;
  private final int nodeId;
  private volatile boolean closed;

  /** The last group merge started; the next one, of either kind, waits for it. */
  private CompletableFuture<?> lastMerge = CompletableFuture.completedFuture(null);

  /**
   * Bytes the tail cache had taken that merging while cached has dealt with: merged, or found too
   * few for a full group. What it has taken beyond is the backlog. Like {@link #cachedPace}, used
   * only by the round that set {@link #cachedMergeRunning}, whose set and reset order its uses.
   */
  private long cachedMergeMark;

  private final AtomicBoolean cachedMergeRunning = new AtomicBoolean();

  /** Groups merged at most each time merging while cached starts; the rest wait for the next. */
  static final int MAX_CACHED_GROUPS = 4;

  /** The pace of merging while cached; used only by the call that set cachedMergeRunning. */
  private final CachedMergePace cachedPace;

  public WalGroupCompactor(
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
    this.cachedPace =
        new CachedMergePace(
            MIN_BYTES_PER_SECOND, MAX_CACHED_GROUPS * config.segmentBytes(), System.nanoTime());
  }

  /**
   * Merges groups of evicted WAL objects, oldest first, until none is left or {@code maxGroups}
   * were merged or {@code spreadOver} has passed (the next pass goes on); returns how many were.
   * The work found at the start is spread over {@code spreadOver}, never slower than {@link
   * #MIN_BYTES_PER_SECOND}: merging is background work, and a burst of it takes the CPU from the
   * producers and consumers of the moment. Until merged, evicted data is still read efficiently
   * (whole WAL objects through the block cache).
   */
  public CompletableFuture<Integer> compactEvicted(
      Predicate<TopicPartitionId> owned, int maxGroups, Duration spreadOver) {
    return compactEvicted(owned, maxGroups, spreadOver, null, 0);
  }

  private CompletableFuture<Integer> compactEvicted(
      Predicate<TopicPartitionId> owned, int maxGroups, Duration spreadOver, Pace pace, int done) {
    if (closed
        || done >= maxGroups
        || (pace != null && System.nanoTime() - pace.startNanos > spreadOver.toNanos())) {
      // The next pass goes on from here.
      return CompletableFuture.completedFuture(done);
    }
    CompletableFuture<Void> turn =
        pace == null ? CompletableFuture.completedFuture(null) : pace.next();
    // The pick and the merge in one turn: a merge while cached may have taken the oldest objects
    // meanwhile.
    return turn.thenCompose(
            v ->
                serialized(
                    () ->
                        store
                            .oldestWalObjects(nodeId, config.minWalBytes(), OBJECTS_PER_LOOK)
                            .thenCompose(
                                oldest -> {
                                  Optional<Group> group = pick(oldest, owned, false);
                                  if (group.isEmpty()) {
                                    return CompletableFuture.completedFuture((Pace) null);
                                  }
                                  Pace paced =
                                      pace != null
                                          ? pace
                                          : new Pace(
                                              System.nanoTime(),
                                              Math.max(
                                                  MIN_BYTES_PER_SECOND,
                                                  evictedBytes(oldest, owned)
                                                      * 1000
                                                      / Math.max(1, spreadOver.toMillis())));
                                  paced.admitted += group.get().bytes();
                                  return merge(group.get())
                                      .thenApply(merged -> merged ? paced : null);
                                })))
        .thenCompose(
            paced ->
                paced == null
                    ? CompletableFuture.completedFuture(done)
                    : compactEvicted(owned, maxGroups, spreadOver, paced, done + 1));
  }

  /** When the next group may start: after the bytes admitted so far at {@code bytesPerSecond}. */
  private static final class Pace {
    private final long startNanos;
    private final long bytesPerSecond;
    private long admitted;

    Pace(long startNanos, long bytesPerSecond) {
      this.startNanos = startNanos;
      this.bytesPerSecond = bytesPerSecond;
    }

    CompletableFuture<Void> next() {
      long due = startNanos + admitted * 1_000_000_000L / bytesPerSecond;
      long wait = due - System.nanoTime();
      return wait <= 0
          ? CompletableFuture.completedFuture(null)
          : CompletableFuture.runAsync(
              () -> {}, CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS));
    }
  }

  /**
   * Merges full groups (a segment's bytes each) of the oldest WAL objects while their bytes are
   * still in the tail cache, once a segment's bytes wait for it: called every second or so, it does
   * nothing most of the time. Under heavy input the cache holds a few seconds of data and the
   * 30-second pass found nearly all of it evicted, so merging read every byte back with GETs (half
   * the broker's merge CPU, and the store's); merged from memory, a group costs its PUT and its
   * swaps. The groups are the same multi-partition objects as those of evicted data, so readers see
   * no difference; an object no longer cached whole is read with one GET as before.
   *
   * <p>The pace follows the input ({@link CachedMergePace}): twice the bytes written since the last
   * look, or {@link #MIN_BYTES_PER_SECOND} when little is written, up to {@link #MAX_CACHED_GROUPS}
   * groups saved up. When writes stop, the groups still waiting are merged at that slow pace rather
   * than back to back: in a catch-up read right after 900 MB of writes, 254–390 MB were merged
   * during the read's 3–4 seconds, and the store's and broker's CPU went to that.
   */
  public CompletableFuture<Integer> compactCached(Predicate<TopicPartitionId> owned) {
    if (closed || !cachedMergeRunning.compareAndSet(false, true)) {
      return CompletableFuture.completedFuture(0);
    }
    return compactFull(owned, 0)
        .whenComplete(
            (n, t) -> {
              if (t != null) {
                // Tried again once a segment's more is written, not every second meanwhile.
                cachedMergeMark = tailCache.bytesAdded();
              }
              cachedMergeRunning.set(false);
            });
  }

  /**
   * Merges full groups, one at a time, while a segment's bytes wait beyond the mark and the pace
   * allows; {@code done} were merged so far in this round.
   */
  private CompletableFuture<Integer> compactFull(Predicate<TopicPartitionId> owned, int done) {
    // A look before each group: writes may have stopped while the last one merged.
    long added = tailCache.bytesAdded();
    cachedPace.look(added, System.nanoTime());
    if (closed
        || done >= MAX_CACHED_GROUPS
        || added - cachedMergeMark < config.segmentBytes()
        || !cachedPace.allows()) {
      return CompletableFuture.completedFuture(done);
    }
    return serialized(
            () ->
                store
                    .oldestWalObjects(nodeId, config.minWalBytes(), OBJECTS_PER_LOOK)
                    .thenCompose(
                        oldest -> {
                          Optional<Group> group = pick(oldest, owned, true);
                          if (group.isEmpty()) {
                            // Too few bytes for a group: nothing to do until a segment's more.
                            cachedMergeMark = added;
                            return CompletableFuture.completedFuture(false);
                          }
                          long bytes = group.get().bytes();
                          cachedPace.spend(bytes);
                          return merge(group.get())
                              .thenApply(
                                  merged -> {
                                    // A merge that lost its races is not tried again each second.
                                    cachedMergeMark =
                                        merged ? Math.min(added, cachedMergeMark + bytes) : added;
                                    return merged;
                                  });
                        }))
        .thenCompose(
            merged ->
                merged ? compactFull(owned, done + 1) : CompletableFuture.completedFuture(done));
  }

  /**
   * Runs {@code work}, a partition's merge of its cached run into a segment of its own ({@link
   * SegmentCompactor}), between group merges: a partition merged while a group holding its entries
   * uploads is left out of the group, and its bytes in the group's object stay dead (a benchmark
   * run left 7 of 37 partitions' shares out of three 64 MiB objects so while producing).
   */
  <T> CompletableFuture<T> betweenMerges(Supplier<CompletableFuture<T>> work) {
    return serialized(work);
  }

  /**
   * Runs {@code merge} after the merge started before it: the pass's merging of evicted objects and
   * merging while cached pick from the same oldest objects, and two merges of the same entries
   * would leave one of them dead.
   */
  private <T> CompletableFuture<T> serialized(Supplier<CompletableFuture<T>> merge) {
    CompletableFuture<T> next;
    synchronized (this) {
      next = lastMerge.handle((v, t) -> null).thenCompose(v -> merge.get());
      lastMerge = next;
    }
    return next;
  }

  /**
   * Bytes of {@code owned} partitions' entries in the objects the tail cache does not hold whole.
   */
  long evictedBytes(List<WalObject> oldest, Predicate<TopicPartitionId> owned) {
    return oldest.stream()
        .flatMap(o -> evictedEntries(o, owned).stream())
        .mapToLong(e -> e.entry().size())
        .sum();
  }

  private boolean cached(List<PartitionEntry> entries) {
    return entries.stream().allMatch(e -> tailCache.bytesOf(e.partition(), e.entry()).isPresent());
  }

  /** The objects of one merge and, by object key, the entries of this broker's partitions in it. */
  record Group(
      List<WalObject> objects, Map<String, List<PartitionEntry>> ownedByObject, long bytes) {}

  /**
   * The oldest objects holding entries of {@code owned} partitions that have left the tail cache,
   * up to about a segment's bytes of such entries; empty when there are none. With {@code full},
   * the oldest objects whether cached or not, and only if they make a whole segment's bytes. Only
   * partitions with at least {@link CompactionConfig#minWalBytes()} in two or more of the entries
   * looked at take part, the same rule that decides when a partition's cached run is merged: a few
   * small leftovers are not worth an object of their own. {@code oldest} holds only objects with
   * entries of partitions that have that much in all ({@link CompactionStore#oldestWalObjects}), so
   * such leftovers do not fill it and hide the objects behind them.
   */
  Optional<Group> pick(List<WalObject> oldest, Predicate<TopicPartitionId> owned, boolean full) {
    // Each object's evicted entries (all of this broker's entries for a full group), looked up in
    // the tail cache once for both walks below.
    List<List<PartitionEntry>> evictedByObject =
        oldest.stream().map(o -> full ? ownedEntries(o, owned) : evictedEntries(o, owned)).toList();
    Map<TopicPartitionId, long[]> evicted = new HashMap<>();
    for (List<PartitionEntry> mine : evictedByObject) {
      for (PartitionEntry e : mine) {
        long[] sum = evicted.computeIfAbsent(e.partition(), k -> new long[2]);
        sum[0] += e.entry().size();
        sum[1]++;
      }
    }
    Predicate<TopicPartitionId> eligible =
        tp -> {
          long[] sum = evicted.get(tp);
          return sum != null && sum[0] >= config.minWalBytes() && sum[1] >= 2;
        };
    List<WalObject> chosen = new ArrayList<>();
    Map<String, List<PartitionEntry>> entries = new HashMap<>();
    long bytes = 0;
    int count = 0;
    boolean filled = false;
    for (int i = 0; i < oldest.size(); i++) {
      WalObject o = oldest.get(i);
      List<PartitionEntry> mine =
          evictedByObject.get(i).stream().filter(e -> eligible.test(e.partition())).toList();
      if (mine.isEmpty()) {
        continue;
      }
      long size = mine.stream().mapToLong(e -> e.entry().size()).sum();
      if (bytes > 0 && bytes + size > config.segmentBytes()) {
        filled = true;
        break;
      }
      chosen.add(o);
      entries.put(o.key(), mine);
      bytes += size;
      count += mine.size();
    }
    // A full group only: the newest objects wait until there are enough of them for one.
    if (count == 0 || (full && !filled)) {
      return Optional.empty();
    }
    return Optional.of(new Group(chosen, entries, bytes));
  }

  private static List<PartitionEntry> ownedEntries(WalObject o, Predicate<TopicPartitionId> owned) {
    return o.entries().stream().filter(e -> owned.test(e.partition())).toList();
  }

  /**
   * The entries of {@code owned} partitions in {@code o}, unless the tail cache still holds them
   * all: then SegmentCompactor merges them from memory. (Evicted entries in later objects, e.g. of
   * a partition whose cached chunks were dropped on a hand-over, are still this compactor's.)
   */
  private List<PartitionEntry> evictedEntries(WalObject o, Predicate<TopicPartitionId> owned) {
    List<PartitionEntry> mine = ownedEntries(o, owned);
    return mine.isEmpty() || cached(mine) ? List.of() : mine;
  }

  /** Stops a pass in progress after the group being merged. */
  public void close() {
    closed = true;
  }

  private CompletableFuture<Boolean> merge(Group group) {
    Map<IndexEntry, ByteBuffer> bytesOf = new HashMap<>();
    CompletableFuture<Void> reads = CompletableFuture.completedFuture(null);
    long[] fromStore = {0};
    for (int i = 0; i < group.objects().size(); i += PARALLEL_READS) {
      List<WalObject> window =
          group.objects().subList(i, Math.min(group.objects().size(), i + PARALLEL_READS));
      reads =
          reads.thenCompose(
              v ->
                  CompletableFuture.allOf(
                      window.stream()
                          .map(o -> read(o, group.ownedByObject().get(o.key()), bytesOf, fromStore))
                          .toArray(CompletableFuture[]::new)));
    }
    return reads.thenCompose(
        v -> {
          metrics.count("diskless.compaction.read.bytes", "source", "object-store", fromStore[0]);
          metrics.count(
              "diskless.compaction.read.bytes", "source", "cache", group.bytes() - fromStore[0]);
          return write(group, bytesOf);
        });
  }

  /**
   * This broker's entries of one WAL object: from the tail cache if all are there, else from one
   * ranged GET spanning them.
   */
  private CompletableFuture<Void> read(
      WalObject o,
      List<PartitionEntry> mine,
      Map<IndexEntry, ByteBuffer> bytesOf,
      long[] fromStore) {
    Map<IndexEntry, ByteBuffer> cached = new HashMap<>();
    for (PartitionEntry e : mine) {
      tailCache.bytesOf(e.partition(), e.entry()).ifPresent(b -> cached.put(e.entry(), b));
    }
    if (cached.size() == mine.size()) {
      synchronized (bytesOf) {
        bytesOf.putAll(cached);
      }
      return CompletableFuture.completedFuture(null);
    }
    long from = mine.stream().mapToLong(e -> e.entry().position()).min().orElseThrow();
    long to =
        mine.stream().mapToLong(e -> e.entry().position() + e.entry().size()).max().orElseThrow();
    return objects
        .get(o.key(), from, Math.toIntExact(to - from))
        .thenAccept(
            range -> {
              synchronized (bytesOf) {
                for (PartitionEntry e : mine) {
                  bytesOf.put(
                      e.entry(),
                      range.slice((int) (e.entry().position() - from), e.entry().size()));
                  fromStore[0] += e.entry().size();
                }
              }
            });
  }

  private CompletableFuture<Boolean> write(Group group, Map<IndexEntry, ByteBuffer> bytesOf) {
    Comparator<TopicPartitionId> order =
        Comparator.comparing(TopicPartitionId::topicId)
            .thenComparingInt(TopicPartitionId::partition);
    TreeMap<TopicPartitionId, List<IndexEntry>> byPartition = new TreeMap<>(order);
    group.ownedByObject().values().stream()
        .flatMap(List::stream)
        .forEach(
            e -> byPartition.computeIfAbsent(e.partition(), k -> new ArrayList<>()).add(e.entry()));
    String key = objects.keyPrefix() + "segments/merged/" + UUID.randomUUID();
    ByteBuffer merged = ByteBuffer.allocate(Math.toIntExact(group.bytes()));
    List<Share> shares = new ArrayList<>();
    for (var p : byPartition.entrySet()) {
      List<IndexEntry> entries = p.getValue();
      entries.sort(Comparator.comparingLong(IndexEntry::baseOffset));
      int start = merged.position();
      for (IndexEntry e : entries) {
        merged.put(bytesOf.get(e).duplicate());
      }
      ByteBuffer range = merged.duplicate().limit(merged.position()).position(start);
      if (!holdsExactly(range, entries)) {
        LOG.error(
            "partition={} object_key={} bytes read for merging do not match their index entries; left out",
            p.getKey(),
            entries.get(0).objectKey());
        continue;
      }
      shares.add(
          new Share(
              p.getKey(), entries, SegmentCompactor.chunk(range, key, config.chunkBytes(), true)));
    }
    merged.flip();
    if (shares.isEmpty()) {
      return CompletableFuture.completedFuture(false);
    }
    long putStart = System.nanoTime();
    return objects
        .put(key, merged.duplicate())
        .thenCompose(v -> swapAll(key, merged.remaining(), shares, 0, new Swaps(putStart)))
        .thenCompose(
            swaps -> {
              int swapped = swaps.done;
              if (swapped == 0 && swaps.uncertain) {
                // A swap whose commit may have happened: the object may be referenced. The orphan
                // sweeper removes it later if no row refers to it.
                LOG.warn(
                    "object_key={} merging WAL objects: outcome of a swap unknown; left to the orphan"
                        + " sweeper",
                    key);
                return CompletableFuture.completedFuture(false);
              }
              if (swapped == 0) {
                LOG.info("object_key={} merging WAL objects lost every race; removed", key);
                return objects.delete(List.of(key)).thenApply(x -> false);
              }
              long bytes =
                  shares.stream()
                      .mapToLong(s -> s.chunks().stream().mapToLong(IndexEntry::size).sum())
                      .sum();
              metrics.count("diskless.compaction.bytes", "kind", "wal-group", bytes);
              LOG.info(
                  "object_key={} merged {} WAL objects: {} of {} partitions swapped in, {} bytes",
                  key,
                  group.objects().size(),
                  swapped,
                  byPartition.size(),
                  merged.remaining());
              return CompletableFuture.completedFuture(true);
            });
  }

  /** One partition's entries of the group and the chunks of the merged object replacing them. */
  private record Share(
      TopicPartitionId partition, List<IndexEntry> entries, List<IndexEntry> chunks) {}

  /** How the swaps of one merged object went. */
  private static final class Swaps {
    final long putStart;
    int done;

    /** A swap failed with an exception: its commit may have happened. */
    boolean uncertain;

    Swaps(long putStart) {
      this.putStart = putStart;
    }
  }

  /**
   * Swaps the shares one transaction each, in order. The first swap that commits creates the
   * object's row; until one is known to have, the orphan sweeper may remove the object after its
   * grace, so past half of it nothing more is tried. After a swap whose outcome is unknown the row
   * may exist, so later swaps only add to an existing LIVE row (and fail if there is none): a row
   * is never created for an object that may already have been deleted.
   */
  private CompletableFuture<Swaps> swapAll(
      String key, long size, List<Share> shares, int i, Swaps swaps) {
    boolean rowKnown = swaps.done > 0;
    if (i == shares.size()
        || (!rowKnown && System.nanoTime() - swaps.putStart > config.orphanGrace().toNanos() / 2)) {
      return CompletableFuture.completedFuture(swaps);
    }
    Share s = shares.get(i);
    return store
        .swapIntoMerged(
            s.partition(), s.entries(), key, size, s.chunks(), nodeId, rowKnown || swaps.uncertain)
        .handle(
            (swapped, t) -> {
              if (t != null) {
                swaps.uncertain = true;
                LOG.warn(
                    "partition={} object_key={} swap failed: {}", s.partition(), key, t.toString());
                return false;
              }
              if (!swapped) {
                LOG.info(
                    "partition={} object_key={} changed while its WAL entries were merged; left out",
                    s.partition(),
                    key);
              }
              return swapped;
            })
        .thenCompose(
            swapped -> {
              if (swapped) {
                swaps.done++;
              }
              return swapAll(key, size, shares, i + 1, swaps);
            });
  }

  /** The batches in {@code range} are exactly those {@code entries} name, in order. */
  static boolean holdsExactly(ByteBuffer range, List<IndexEntry> entries) {
    List<RecordBatchHeader> headers = RecordBatches.headers(range);
    int h = 0;
    for (IndexEntry e : entries) {
      long bytes = 0;
      for (int b = 0; b < e.batchCount(); b++, h++) {
        if (h >= headers.size()) {
          return false;
        }
        RecordBatchHeader header = headers.get(h);
        if ((b == 0 && header.baseOffset() != e.baseOffset())
            || (b == e.batchCount() - 1 && header.lastOffset() != e.lastOffset())) {
          return false;
        }
        bytes += header.sizeInBytes();
      }
      if (bytes != e.size()) {
        return false;
      }
    }
    return h == headers.size();
  }
}
