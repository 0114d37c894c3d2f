package dev.diskless.storage.compaction;

/**
 * How much merging while cached may do: twice the bytes the tail cache took since the last look, or
 * a floor rate over the time since when little was written, saved up to a cap, and given up when
 * writes stop. Only new input evicts from the tail cache, so merges paced by it stay ahead of
 * eviction while writes go on (as far as the CPU allows), and a backlog left when writes stop is
 * merged at the floor rate rather than in one burst that takes the CPU from the readers of the
 * moment. Not thread-safe: one merging round uses it at a time.
 */
final class CachedMergePace {

  private final long floorBytesPerSecond;
  private final long cap;
  private long allowance;
  private long addedSeen;
  private long seenNanos;

  CachedMergePace(long floorBytesPerSecond, long cap, long nowNanos) {
    this.floorBytesPerSecond = floorBytesPerSecond;
    this.cap = cap;
    this.seenNanos = nowNanos;
  }

  /**
   * Takes in that the tail cache had taken {@code added} bytes in all by {@code nowNanos}. With no
   * input since the last look, what was saved up is given up: the backlog left when writes stop is
   * merged at the floor rate from then on, not in a burst of what the writes had earned.
   */
  void look(long added, long nowNanos) {
    long input = Math.max(0, added - addedSeen);
    // Milliseconds first: a day's nanoseconds times the rate would overflow.
    long floor = floorBytesPerSecond * (Math.max(0, nowNanos - seenNanos) / 1_000_000) / 1000;
    allowance =
        input > 0
            ? Math.min(cap, allowance + Math.max(2 * input, floor))
            : Math.min(cap, Math.min(allowance, 0) + floor);
    addedSeen = added;
    seenNanos = nowNanos;
  }

  /** Whether a merge may start: the allowance is not used up (a merge may overdraw it). */
  boolean allows() {
    return allowance > 0;
  }

  /** A merge of {@code bytes} started. */
  void spend(long bytes) {
    allowance -= bytes;
  }
}
