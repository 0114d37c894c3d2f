package dev.diskless.storage.compaction;

import java.util.Arrays;
import java.util.Map;

/**
 * A topic's key-compaction settings, read from its configs with Apache Kafka's defaults: whether
 * {@code cleanup.policy} includes {@code compact}, and the settings that mean for Kafka's log
 * cleaner what they mean here ({@code delete.retention.ms}, {@code min.compaction.lag.ms}, {@code
 * max.compaction.lag.ms}, {@code min.cleanable.dirty.ratio}, and {@code segment.bytes}/{@code
 * segment.ms}, which bound the active part that is never compacted).
 */
public record KeyCompactionPolicy(
    boolean compact,
    long deleteRetentionMs,
    long minCompactionLagMs,
    long maxCompactionLagMs,
    double minCleanableDirtyRatio,
    long segmentBytes,
    long segmentMs) {

  /** The policy of a topic with these (explicitly set) configs. */
  public static KeyCompactionPolicy of(Map<String, String> configs) {
    String policy = configs.getOrDefault("cleanup.policy", "delete");
    boolean compact =
        Arrays.stream(policy.split(",")).map(String::trim).anyMatch(p -> p.equals("compact"));
    return new KeyCompactionPolicy(
        compact,
        longOf(configs, "delete.retention.ms", 86_400_000L),
        longOf(configs, "min.compaction.lag.ms", 0L),
        longOf(configs, "max.compaction.lag.ms", Long.MAX_VALUE),
        Double.parseDouble(configs.getOrDefault("min.cleanable.dirty.ratio", "0.5")),
        longOf(configs, "segment.bytes", 1L << 30),
        longOf(configs, "segment.ms", 604_800_000L));
  }

  private static long longOf(Map<String, String> configs, String name, long fallback) {
    String v = configs.get(name);
    return v == null ? fallback : Long.parseLong(v.trim());
  }
}
