package dev.diskless.storage.compaction;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.PartitionLogs;
import dev.diskless.storage.metadata.LogBounds;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.RetentionStore;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a topic's {@code retention.ms} and {@code retention.bytes} to a partition this engine
 * owns when its {@code cleanup.policy} includes {@code delete} (the default), by moving its log
 * start offset (epoch-checked, like DeleteRecords). The index rows go at once; the objects after a
 * grace period, when nothing references them any more.
 */
public final class RetentionEnforcer {

  /** Kafka's default retention.ms: 7 days. */
  public static final long DEFAULT_RETENTION_MS = 7L * 24 * 3600 * 1000;

  private static final Logger LOG = LoggerFactory.getLogger(RetentionEnforcer.class);

  private final RetentionStore store;
  private final PartitionLogs logs;
  private final LogBounds bounds;
  private final LongSupplier clock;

  public RetentionEnforcer(
      RetentionStore store, PartitionLogs logs, LogBounds bounds, LongSupplier clock) {
    this.store = store;
    this.logs = logs;
    this.bounds = bounds;
    this.clock = clock;
  }

  /** Enforces retention on one owned partition; returns the new log start offset if it moved. */
  public CompletableFuture<OptionalLong> enforce(TopicInfo topic, TopicPartitionId tp) {
    PartitionMetadata meta = logs.local(tp).orElse(null);
    if (meta == null) {
      return CompletableFuture.completedFuture(OptionalLong.empty());
    }
    if (!deletes(topic)) {
      // As Kafka's log manager: retention applies only to topics whose cleanup.policy includes
      // delete (an empty policy keeps everything).
      return CompletableFuture.completedFuture(OptionalLong.empty());
    }
    long retentionMs = longConfig(topic, "retention.ms", DEFAULT_RETENTION_MS);
    long retentionBytes = longConfig(topic, "retention.bytes", -1);
    CompletableFuture<OptionalLong> byTime =
        retentionMs < 0
            ? CompletableFuture.completedFuture(OptionalLong.empty())
            : store.timeCutoff(tp, clock.getAsLong() - retentionMs, meta.highWatermark());
    CompletableFuture<OptionalLong> bySize =
        retentionBytes < 0
            ? CompletableFuture.completedFuture(OptionalLong.empty())
            : store.sizeCutoff(tp, retentionBytes, meta.highWatermark());
    return byTime
        .thenCombine(bySize, RetentionEnforcer::max)
        .thenCompose(
            target -> {
              if (target.isEmpty() || target.getAsLong() <= meta.logStartOffset()) {
                return CompletableFuture.completedFuture(OptionalLong.empty());
              }
              return logs.deleteRecordsBefore(tp, meta.leaderEpoch(), target.getAsLong(), bounds)
                  .thenApply(
                      lso -> {
                        LOG.info(
                            "partition={} epoch={} retention moved log start offset to {}",
                            tp,
                            meta.leaderEpoch(),
                            lso);
                        return OptionalLong.of(lso);
                      });
            });
  }

  private static OptionalLong max(OptionalLong a, OptionalLong b) {
    if (a.isEmpty()) {
      return b;
    }
    return b.isEmpty() ? a : OptionalLong.of(Math.max(a.getAsLong(), b.getAsLong()));
  }

  private static boolean deletes(TopicInfo topic) {
    String policy = topic.configs().get("cleanup.policy");
    if (policy == null) {
      return true;
    }
    for (String part : policy.split(",")) {
      if (part.trim().equalsIgnoreCase("delete")) {
        return true;
      }
    }
    return false;
  }

  private static long longConfig(TopicInfo topic, String key, long fallback) {
    String value = topic.configs().get(key);
    if (value == null) {
      return fallback;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      LOG.warn("topic={} has a non-numeric {}={}; using {}", topic.name(), key, value, fallback);
      return fallback;
    }
  }
}
