package dev.diskless.storage.testing;

import dev.diskless.storage.metrics.StorageMetrics;

/** Counts of object-store calls recorded in an engine's metrics, for tests that bound them. */
public final class ObjectStoreCalls {

  private ObjectStoreCalls() {}

  /** How many GETs {@code metrics} has recorded, whatever their outcome. */
  public static long gets(StorageMetrics metrics) {
    return metrics
        .registry()
        .find("diskless.objectstore.requests")
        .tag("operation", "get")
        .timers()
        .stream()
        .mapToLong(t -> t.count())
        .sum();
  }

  /** How many bytes the GETs {@code metrics} has recorded brought back. */
  public static long getBytes(StorageMetrics metrics) {
    var counter =
        metrics.registry().find("diskless.objectstore.bytes").tag("operation", "get").counter();
    return counter == null ? 0 : (long) counter.count();
  }

  /** Bytes compaction read from {@code source} ("cache" or "object-store") per {@code metrics}. */
  public static long compactionReadBytes(StorageMetrics metrics, String source) {
    var counter =
        metrics.registry().find("diskless.compaction.read.bytes").tag("source", source).counter();
    return counter == null ? 0 : (long) counter.count();
  }
}
