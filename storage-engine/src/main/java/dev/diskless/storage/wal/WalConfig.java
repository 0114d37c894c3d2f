package dev.diskless.storage.wal;

import java.time.Duration;

/**
 * When the object WAL flushes and how much it may hold.
 *
 * @param maxObjectBytes a buffer reaching this size is flushed at once (default 8 MiB)
 * @param maxAge a non-empty buffer is flushed when its first append is this old (default 50 ms)
 * @param maxInFlightFlushes uploads that may run at the same time; commits still happen in order
 *     (default 4)
 * @param maxBufferedBytes appends beyond this many unflushed and in-flight bytes are refused with a
 *     retriable error (default 64 MiB), which bounds broker memory under an S3 brown-out
 * @param commitDeadline a flush whose upload started longer ago than this is not committed (its
 *     appends fail, retriable): a broker paused for that long may find its object removed by the
 *     orphan sweeper, so it must not reference it (default 2 minutes; the sweeper's grace period
 *     must be longer)
 * @param groupCommitMaxBytesPerSecond below this input rate (bytes appended per second to this
 *     broker, averaged over about a second) the WAL is in group-commit mode: a flush starts as soon
 *     as the previous one has committed, so a lone append waits one upload instead of {@code
 *     maxAge}. Above it, waiting fills objects to a size that keeps the cost per GB low, so flushes
 *     wait for {@code maxAge} or {@code maxObjectBytes} (default 4 MiB/s)
 * @param groupCommitMinBytes under heavier input, a flush still starts as soon as the previous one
 *     has committed once the buffer holds this many bytes (default 1 MiB): objects of that size
 *     cost at most about 1,000 PUTs per GB, and producers whose data in flight is about that much
 *     (Kafka's defaults: 16 KiB batches, 5 requests in flight) are not held for {@code maxAge}
 * @param maxPutsPerSecond the cost cap of group commit: flushes it starts are at least {@code
 *     1/maxPutsPerSecond} apart (default 50, at most about 130 million PUTs a month, $648 at S3's
 *     $0.005 per 1,000)
 */
public record WalConfig(
    long maxObjectBytes,
    Duration maxAge,
    int maxInFlightFlushes,
    long maxBufferedBytes,
    Duration commitDeadline,
    long groupCommitMaxBytesPerSecond,
    long groupCommitMinBytes,
    int maxPutsPerSecond) {

  /** The default input rate below which the WAL flushes in group-commit mode. */
  public static final long DEFAULT_GROUP_COMMIT_MAX_BYTES_PER_SECOND = 4L << 20;

  /** The default buffer size from which heavy input is flushed by group commit too. */
  public static final long DEFAULT_GROUP_COMMIT_MIN_BYTES = 1L << 20;

  /** The default cost cap of group commit. */
  public static final int DEFAULT_MAX_PUTS_PER_SECOND = 50;

  public WalConfig {
    if (maxObjectBytes < 1024) {
      throw new IllegalArgumentException(
          "wal maxObjectBytes must be >= 1024, got " + maxObjectBytes);
    }
    if (maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException("wal maxAge must be positive, got " + maxAge);
    }
    if (maxInFlightFlushes < 1) {
      throw new IllegalArgumentException(
          "wal maxInFlightFlushes must be >= 1, got " + maxInFlightFlushes);
    }
    if (maxBufferedBytes < maxObjectBytes) {
      throw new IllegalArgumentException("wal maxBufferedBytes must be >= maxObjectBytes");
    }
    if (commitDeadline.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException(
          "wal commitDeadline must be at least 1s, got " + commitDeadline);
    }
    if (groupCommitMaxBytesPerSecond < 0) {
      throw new IllegalArgumentException(
          "wal groupCommitMaxBytesPerSecond must be >= 0 (0 turns group commit off), got "
              + groupCommitMaxBytesPerSecond);
    }
    if (groupCommitMinBytes < 1) {
      throw new IllegalArgumentException(
          "wal groupCommitMinBytes must be >= 1, got " + groupCommitMinBytes);
    }
    if (maxPutsPerSecond < 1) {
      throw new IllegalArgumentException(
          "wal maxPutsPerSecond must be >= 1, got " + maxPutsPerSecond);
    }
  }

  /** The bounds above with group commit at its defaults. */
  public WalConfig(
      long maxObjectBytes,
      Duration maxAge,
      int maxInFlightFlushes,
      long maxBufferedBytes,
      Duration commitDeadline) {
    this(
        maxObjectBytes,
        maxAge,
        maxInFlightFlushes,
        maxBufferedBytes,
        commitDeadline,
        DEFAULT_GROUP_COMMIT_MAX_BYTES_PER_SECOND,
        DEFAULT_GROUP_COMMIT_MIN_BYTES,
        DEFAULT_MAX_PUTS_PER_SECOND);
  }

  /** The same with other group-commit thresholds and cost cap. */
  public WalConfig withGroupCommit(long maxBytesPerSecond, long minBytes, int putsPerSecond) {
    return new WalConfig(
        maxObjectBytes,
        maxAge,
        maxInFlightFlushes,
        maxBufferedBytes,
        commitDeadline,
        maxBytesPerSecond,
        minBytes,
        putsPerSecond);
  }

  /** The same flushing on size and age alone. */
  public WalConfig withoutGroupCommit() {
    return withGroupCommit(0, Long.MAX_VALUE, maxPutsPerSecond);
  }

  public static WalConfig defaults() {
    return new WalConfig(8L << 20, Duration.ofMillis(50), 4, 64L << 20, Duration.ofMinutes(2));
  }
}
