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
 */
public record WalConfig(
    long maxObjectBytes,
    Duration maxAge,
    int maxInFlightFlushes,
    long maxBufferedBytes,
    Duration commitDeadline) {

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
  }

  public static WalConfig defaults() {
    return new WalConfig(8L << 20, Duration.ofMillis(50), 4, 64L << 20, Duration.ofMinutes(2));
  }
}
