package dev.diskless.storage.compaction;

import dev.diskless.storage.metadata.ObjectLifecycle;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectInfo;
import dev.diskless.storage.objectstore.ObjectStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes what nothing references any more: objects whose deletion grace period is over (bucket
 * first, then their row, so a crash in between only repeats work), deleted topics' data, and
 * orphans — objects in the bucket that no metadata row names (a PUT whose commit failed) once older
 * than the orphan grace period. One broker runs it at a time (the controller); running it twice at
 * once is safe, only wasteful.
 */
public final class ObjectCleaner {

  private static final Logger LOG = LoggerFactory.getLogger(ObjectCleaner.class);
  private static final int BATCH = 1000;

  private final ObjectLifecycle lifecycle;
  private final ObjectStore objects;
  private final StorageMetrics metrics;
  private final Duration orphanGrace;
  private final Supplier<Instant> clock;

  public ObjectCleaner(
      ObjectLifecycle lifecycle,
      ObjectStore objects,
      StorageMetrics metrics,
      Duration orphanGrace,
      Supplier<Instant> clock) {
    this.lifecycle = lifecycle;
    this.objects = objects;
    this.metrics = metrics;
    this.orphanGrace = orphanGrace;
    this.clock = clock;
  }

  /** Purges deleted topics, then deletes due objects; returns how many objects were deleted. */
  public CompletableFuture<Integer> deleteUnreferenced() {
    return lifecycle
        .deletedTopics()
        .thenCompose(
            topics -> {
              CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
              for (UUID t : topics) {
                chain = chain.thenCompose(v -> lifecycle.purgeTopic(t));
              }
              return chain;
            })
        .thenCompose(v -> lifecycle.dueForDeletion(BATCH))
        .thenCompose(
            keys ->
                objects
                    .delete(keys)
                    .thenCompose(v -> lifecycle.forget(keys))
                    .thenApply(
                        v -> {
                          if (!keys.isEmpty()) {
                            metrics.count(
                                "diskless.objects.deleted", "reason", "unreferenced", keys.size());
                            LOG.info("deleted {} unreferenced objects", keys.size());
                          }
                          return keys.size();
                        }));
  }

  /**
   * Deletes objects under the WAL and segment prefixes that have no metadata row and are older than
   * the grace.
   */
  public CompletableFuture<Integer> sweepOrphans() {
    Instant cutoff = clock.get().minus(orphanGrace);
    String prefix = objects.keyPrefix();
    return objects
        .list(prefix + "wal/")
        .thenCombine(objects.list(prefix + "segments/"), (a, b) -> concat(a, b))
        .thenCompose(
            listed -> {
              List<String> old =
                  listed.stream()
                      .filter(o -> o.lastModified().isBefore(cutoff))
                      .map(ObjectInfo::key)
                      .toList();
              List<CompletableFuture<Integer>> batches = new ArrayList<>();
              for (int i = 0; i < old.size(); i += BATCH) {
                List<String> batch = old.subList(i, Math.min(old.size(), i + BATCH));
                batches.add(
                    lifecycle.known(batch).thenCompose(known -> deleteOrphans(batch, known)));
              }
              return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new))
                  .thenApply(v -> batches.stream().mapToInt(CompletableFuture::join).sum());
            });
  }

  private CompletableFuture<Integer> deleteOrphans(List<String> candidates, Set<String> known) {
    List<String> orphans = candidates.stream().filter(k -> !known.contains(k)).toList();
    if (orphans.isEmpty()) {
      return CompletableFuture.completedFuture(0);
    }
    LOG.info("deleting {} orphan objects, first object_key={}", orphans.size(), orphans.get(0));
    metrics.count("diskless.objects.deleted", "reason", "orphan", orphans.size());
    return objects.delete(orphans).thenApply(v -> orphans.size());
  }

  private static List<ObjectInfo> concat(List<ObjectInfo> a, List<ObjectInfo> b) {
    List<ObjectInfo> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
