package dev.diskless.storage.compaction;

import java.time.Duration;

/**
 * How background maintenance runs.
 *
 * @param interval how often compaction, retention and cleaning run
 * @param minWalBytes a partition is compacted once its WAL entries hold this many bytes (default 4
 *     MiB)
 * @param segmentBytes the target size of a segment object (default 64 MiB)
 * @param chunkBytes the size of one index entry inside a segment: the unit of a ranged read
 *     (default 1 MiB)
 * @param orphanGrace objects with no metadata row are removed once older than this
 * @param keyMapBytes the most memory one key-compaction run's key map takes (default 32 MiB, about
 *     1.2 million keys; Kafka's cleaner takes 128 MiB): a dirty range with more keys is cleaned in
 *     several runs
 */
public record CompactionConfig(
    Duration interval,
    long minWalBytes,
    long segmentBytes,
    int chunkBytes,
    Duration orphanGrace,
    long keyMapBytes) {

  /** The default key map budget. */
  public static final long DEFAULT_KEY_MAP_BYTES = 32L << 20;

  public CompactionConfig {
    if (chunkBytes < 1024 || segmentBytes < chunkBytes || minWalBytes < 1) {
      throw new IllegalArgumentException(
          "compaction sizes must satisfy 1 KiB <= chunkBytes <= segmentBytes and minWalBytes >= 1");
    }
    if (keyMapBytes < 64L * KeyOffsetMap.BYTES_PER_SLOT) {
      throw new IllegalArgumentException("keyMapBytes must hold at least 64 keys");
    }
  }

  public CompactionConfig(
      Duration interval,
      long minWalBytes,
      long segmentBytes,
      int chunkBytes,
      Duration orphanGrace) {
    this(interval, minWalBytes, segmentBytes, chunkBytes, orphanGrace, DEFAULT_KEY_MAP_BYTES);
  }

  /** The same with another key map budget. */
  public CompactionConfig withKeyMapBytes(long bytes) {
    return new CompactionConfig(
        interval, minWalBytes, segmentBytes, chunkBytes, orphanGrace, bytes);
  }

  /** The same with another interval between maintenance passes. */
  public CompactionConfig withInterval(Duration newInterval) {
    return new CompactionConfig(
        newInterval, minWalBytes, segmentBytes, chunkBytes, orphanGrace, keyMapBytes);
  }

  public static CompactionConfig defaults(Duration orphanGrace) {
    return new CompactionConfig(Duration.ofSeconds(30), 4L << 20, 64L << 20, 1 << 20, orphanGrace);
  }
}
