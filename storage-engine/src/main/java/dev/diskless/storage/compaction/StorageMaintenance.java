package dev.diskless.storage.compaction;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.PartitionLogs;
import dev.diskless.storage.metadata.CompactionStore;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import dev.diskless.storage.metrics.StorageMetrics;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background work of one engine, run every {@link CompactionConfig#interval()}: retention, key
 * compaction (topics with {@code cleanup.policy=compact}), merging of WAL objects that left the
 * tail cache and segment compaction of the partitions it owns (the owner is the only writer of a
 * partition's log start offset), and — only where {@code cleanerLeader} says so, normally on the
 * controller — deletion of unreferenced and orphaned objects. Besides, every second, WAL objects
 * still in the tail cache are merged in full groups once enough was written. Partitions are
 * processed one at a time so maintenance never competes with the write path for all connections.
 */
public final class StorageMaintenance implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StorageMaintenance.class);

  private final CompactionConfig config;
  private final PartitionLogs logs;
  private final TopicStore topics;
  private final RetentionEnforcer retention;
  private final SegmentCompactor compactor;
  private final WalGroupCompactor groupCompactor;
  private final KeyCompactor keyCompactor;
  private final CompactionStore compactionStore;
  private final ObjectCleaner cleaner;
  private final BooleanSupplier cleanerLeader;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("storage-maintenance").daemon().factory());

  /** Its own thread: a pass blocks the other one for up to its interval (paced merging). */
  private final ScheduledExecutorService cachedMerges =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("storage-merge-cached").daemon().factory());

  private final AtomicLong compactionLagBytes = new AtomicLong();
  private volatile java.util.function.Supplier<CompletableFuture<?>> extraCleaning =
      () -> CompletableFuture.completedFuture(null);

  public StorageMaintenance(
      CompactionConfig config,
      PartitionLogs logs,
      TopicStore topics,
      RetentionEnforcer retention,
      SegmentCompactor compactor,
      WalGroupCompactor groupCompactor,
      KeyCompactor keyCompactor,
      CompactionStore compactionStore,
      ObjectCleaner cleaner,
      BooleanSupplier cleanerLeader,
      StorageMetrics metrics) {
    this.config = config;
    this.logs = logs;
    this.topics = topics;
    this.retention = retention;
    this.compactor = compactor;
    this.groupCompactor = groupCompactor;
    this.keyCompactor = keyCompactor;
    this.compactionStore = compactionStore;
    this.cleaner = cleaner;
    this.cleanerLeader = cleanerLeader;
    metrics.gauge("diskless.compaction.lag.bytes", compactionLagBytes::get);
  }

  public void start() {
    long ms = config.interval().toMillis();
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            runOnce().get(Math.max(ms * 10, 60_000), TimeUnit.MILLISECONDS);
          } catch (Exception e) {
            LOG.warn("storage maintenance run failed: {}", e.toString());
          }
        },
        ms,
        ms,
        TimeUnit.MILLISECONDS);
    cachedMerges.scheduleWithFixedDelay(
        () -> {
          try {
            mergeWhileCached().get(Math.max(ms * 10, 60_000), TimeUnit.MILLISECONDS);
          } catch (Exception e) {
            LOG.warn("merging cached WAL objects failed: {}", e.toString());
          }
        },
        1,
        1,
        TimeUnit.SECONDS);
  }

  /**
   * Merges full groups of WAL objects still in the tail cache if a segment's bytes were written
   * since the last time (see {@link WalGroupCompactor#compactCached}); run every second.
   */
  public CompletableFuture<Integer> mergeWhileCached() {
    return groupCompactor.compactCached(logs::owns);
  }

  /**
   * One pass: retention, then compaction, of each owned partition; then cleaning if this engine
   * leads it.
   */
  public CompletableFuture<Void> runOnce() {
    // Which partitions have WAL entries to merge, in one query rather than one per partition.
    return compactionStore.walBytesByPartition(100_000).thenCompose(this::runOnce);
  }

  private CompletableFuture<Void> runOnce(List<CompactionStore.PartitionWalBytes> walBytes) {
    Set<TopicPartitionId> toMerge = new HashSet<>();
    for (CompactionStore.PartitionWalBytes p : walBytes) {
      if (p.entries() >= 2 && p.bytes() >= config.minWalBytes()) {
        toMerge.add(p.partition());
      }
    }
    List<TopicPartitionId> owned = logs.ownedPartitions();
    Map<UUID, CompletableFuture<Optional<TopicInfo>>> topicInfo = new HashMap<>();
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (TopicPartitionId tp : owned) {
      // An empty log has nothing to expire or clean: an idle broker's pass costs no query for it.
      boolean empty = logs.local(tp).map(m -> m.highWatermark() == m.logStartOffset()).orElse(true);
      if (empty && !toMerge.contains(tp)) {
        continue;
      }
      CompletableFuture<Optional<TopicInfo>> info =
          topicInfo.computeIfAbsent(tp.topicId(), topics::byId);
      chain =
          chain
              .thenCompose(v -> info)
              .thenCompose(
                  t ->
                      t.isPresent()
                          ? retention.enforce(t.get(), tp).thenApply(x -> null)
                          : CompletableFuture.completedFuture(null))
              .thenCompose(v -> info)
              .thenCompose(t -> compactKeys(t, tp))
              .thenCompose(
                  v ->
                      toMerge.contains(tp)
                          ? groupCompactor.betweenMerges(() -> compactor.compact(tp))
                          : CompletableFuture.completedFuture(false))
              .handle(
                  (v, e) -> {
                    if (e != null) {
                      LOG.warn("partition={} maintenance failed: {}", tp, e.toString());
                    }
                    return null;
                  });
    }
    chain = chain.thenRun(() -> keyCompactor.keepGaugesOf(logs.ownedPartitions()));
    // The lag after the pass: read again only if the pass merged something.
    CompletableFuture<Void> lagKept =
        chain
            .thenCompose(
                v ->
                    toMerge.isEmpty()
                        ? CompletableFuture.completedFuture(walBytes)
                        : compactionStore.walBytesByPartition(100_000))
            .thenAccept(
                all ->
                    compactionLagBytes.set(
                        all.stream()
                            .filter(p -> logs.owns(p.partition()))
                            .mapToLong(CompactionStore.PartitionWalBytes::bytes)
                            .sum()));
    CompletableFuture<Void> cleaned =
        !cleanerLeader.getAsBoolean()
            ? lagKept
            : lagKept
                .thenCompose(v -> cleaner.deleteUnreferenced())
                .thenCompose(v -> cleaner.sweepOrphans())
                .thenCompose(v -> extraCleaning.get())
                .thenApply(v -> null);
    // Last, paced over the rest of the interval: WAL objects whose entries left the tail cache,
    // each read once for all their partitions (runs still cached were merged above, from memory).
    return cleaned.thenCompose(
        v ->
            groupCompactor
                .compactEvicted(logs::owns, Integer.MAX_VALUE, config.interval())
                .handle(
                    (groups, t) -> {
                      if (t != null) {
                        LOG.warn("merging WAL objects failed: {}", t.toString());
                      }
                      return null;
                    }));
  }

  /** Key compaction of {@code tp} if its topic compacts and this engine still owns it. */
  private CompletableFuture<?> compactKeys(Optional<TopicInfo> topic, TopicPartitionId tp) {
    Optional<Integer> epoch = logs.local(tp).map(m -> m.leaderEpoch());
    if (topic.isEmpty() || epoch.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    KeyCompactionPolicy policy = KeyCompactionPolicy.of(topic.get().configs());
    return keyCompactor.clean(topic.get().name(), tp, epoch.get(), policy);
  }

  /**
   * More cleaning for the cleaner leader to run after objects (e.g. departed brokers' volume WAL
   * directories).
   */
  public void addCleaning(java.util.function.Supplier<CompletableFuture<?>> task) {
    var previous = extraCleaning;
    extraCleaning = () -> previous.get().thenCompose(v -> task.get());
  }

  @Override
  public void close() {
    groupCompactor.close();
    cachedMerges.shutdownNow();
    scheduler.shutdownNow();
    keyCompactor.close();
  }
}
