package dev.diskless.storage.cache;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.LocatedEntry;
import dev.diskless.storage.metrics.StorageMetrics;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The index entries a reader of a partition looked up last, so that a sequential reader of data
 * that has left the tail cache asks the metadata store once per many entries instead of once per
 * fetch: a look-up returns up to 64 entries, and a fetch uses about one (a 1 MiB chunk per
 * partition). An entry names bytes that stay readable for a minute after anything replaces them
 * (the deletion grace of unreferenced objects), so a look-up is used for a fraction of that ({@link
 * #DEFAULT_TTL_NANOS}); a merge replaces entries with the same bytes elsewhere, and key compaction,
 * which changes what a reader sees, drops the partition here ({@link #invalidate}). Entries above
 * what was looked up are never guessed: a reader that reaches the end of a look-up asks again.
 * Losing the cache loses nothing (invariant D3).
 */
public final class IndexCache {

  /** How long a look-up serves readers: well inside the one-minute deletion grace. */
  public static final long DEFAULT_TTL_NANOS = 10_000_000_000L;

  /** Entries held over all partitions (about 200 bytes each). */
  public static final int DEFAULT_MAX_ENTRIES = 65_536;

  /**
   * One look-up: the entries holding offsets from {@code from} below {@code upTo}, at most as many
   * as were asked for ({@code limited} when the limit cut the list short).
   */
  private record LookUp(
      long from, long upTo, List<LocatedEntry> entries, boolean limited, long at) {}

  private final long ttlNanos;
  private final int maxEntries;
  private final LongSupplier nanoClock;
  private final StorageMetrics metrics;
  private final LinkedHashMap<TopicPartitionId, LookUp> lookUps =
      new LinkedHashMap<>(64, 0.75f, true);
  private int entries;

  public IndexCache(StorageMetrics metrics) {
    this(DEFAULT_TTL_NANOS, DEFAULT_MAX_ENTRIES, System::nanoTime, metrics);
  }

  public IndexCache(long ttlNanos, int maxEntries, LongSupplier nanoClock, StorageMetrics metrics) {
    this.ttlNanos = ttlNanos;
    this.maxEntries = maxEntries;
    this.nanoClock = nanoClock;
    this.metrics = metrics;
    metrics.gauge("diskless.cache.index.entries", this::size);
  }

  /**
   * The entries holding offsets from {@code offset} below {@code upTo}, in order, when the last
   * look-up of the partition answers that: it started at or before {@code offset}, is recent, and
   * either holds at least {@code minBytes} from the entry holding {@code offset} plus one more
   * entry (what a read and its read-ahead take) or ended where {@code upTo} ends now. Empty when
   * the metadata store must be asked.
   */
  public synchronized Optional<List<LocatedEntry>> entries(
      TopicPartitionId tp, long offset, long upTo, long minBytes) {
    LookUp l = lookUps.get(tp);
    Optional<List<LocatedEntry>> found =
        l == null ? Optional.empty() : answer(l, offset, upTo, minBytes);
    metrics.cacheLookup("index", found.isPresent());
    return found;
  }

  private Optional<List<LocatedEntry>> answer(LookUp l, long offset, long upTo, long minBytes) {
    if (offset < l.from() || nanoClock.getAsLong() - l.at() > ttlNanos) {
      return Optional.empty();
    }
    List<LocatedEntry> out = new ArrayList<>();
    long bytes = 0;
    for (LocatedEntry e : l.entries()) {
      if (e.entry().lastOffset() < offset) {
        continue;
      }
      if (e.entry().baseOffset() >= upTo) {
        // A read-committed reader's bound may lie below the one this look-up was made with.
        return Optional.of(out);
      }
      out.add(e);
      if (bytes >= minBytes) {
        // The read has its bytes; this entry is its read-ahead.
        return Optional.of(out);
      }
      bytes += e.entry().size();
    }
    return !l.limited() && l.upTo() >= upTo ? Optional.of(out) : Optional.empty();
  }

  /**
   * Keeps what a look-up from {@code from} below {@code upTo}, limited to {@code limit} entries,
   * returned.
   */
  public synchronized void put(
      TopicPartitionId tp, long from, long upTo, List<LocatedEntry> found, int limit) {
    LookUp previous =
        lookUps.put(
            tp,
            new LookUp(
                from, upTo, List.copyOf(found), found.size() >= limit, nanoClock.getAsLong()));
    entries += found.size() - (previous == null ? 0 : previous.entries().size());
    Iterator<Map.Entry<TopicPartitionId, LookUp>> it = lookUps.entrySet().iterator();
    while (entries > maxEntries && it.hasNext()) {
      entries -= it.next().getValue().entries().size();
      it.remove();
    }
  }

  /** Forgets a partition's look-up: its index was rewritten, or a read through it failed. */
  public synchronized void invalidate(TopicPartitionId tp) {
    LookUp previous = lookUps.remove(tp);
    if (previous != null) {
      entries -= previous.entries().size();
    }
  }

  /** Entries held, for the cache gauge. */
  public synchronized int size() {
    return entries;
  }
}
