package dev.diskless.storage.wal.volume;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.PartitionOwnership;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the volume WAL directories of brokers that are gone: a directory {@code <node>-<epoch>}
 * whose registration no longer holds a lease, and every record of which is below its partition's
 * committed high watermark (or belongs to a deleted partition), is no longer needed by anyone.
 * Directories with records a new owner may still have to replay stay. Runs on the cleaner leader.
 */
public final class VolumeJanitor {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeJanitor.class);

  private final VolumeWalConfig config;
  private final BrokerRegistry brokers;
  private final PartitionOwnership ownership;

  public VolumeJanitor(
      VolumeWalConfig config, BrokerRegistry brokers, PartitionOwnership ownership) {
    this.config = config;
    this.brokers = brokers;
    this.ownership = ownership;
  }

  /** Removes what can go; returns how many directories were removed. */
  public CompletableFuture<Integer> sweep() {
    CompletableFuture<Integer> done = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("volume-janitor")
        .start(
            () -> {
              try {
                done.complete(sweepBlocking());
              } catch (Throwable t) {
                done.completeExceptionally(t);
              }
            });
    return done;
  }

  private int sweepBlocking() throws Exception {
    if (!Files.isDirectory(config.root())) {
      return 0;
    }
    int removed = 0;
    List<Path> dirs;
    try (var list = Files.list(config.root())) {
      dirs = list.filter(Files::isDirectory).toList();
    }
    Map<TopicPartitionId, Long> highWatermarks = new HashMap<>();
    for (Path dir : dirs) {
      String[] name = dir.getFileName().toString().split("-");
      if (name.length != 2) {
        continue;
      }
      int node = Integer.parseInt(name[0]);
      long epoch = Long.parseLong(name[1]);
      if (brokers.leaseRunning(node, epoch).get(30, TimeUnit.SECONDS)) {
        continue;
      }
      if (allCommitted(dir, highWatermarks)) {
        deleteTree(dir);
        removed++;
        LOG.info(
            "removed the volume WAL directory {} of a departed broker: everything in it is committed",
            dir);
      }
    }
    return removed;
  }

  private boolean allCommitted(Path dir, Map<TopicPartitionId, Long> highWatermarks)
      throws Exception {
    for (WalRecord r : WalRecord.readDirectory(dir)) {
      Long hw = highWatermarks.get(r.partition());
      if (hw == null) {
        hw = highWatermark(r.partition());
        highWatermarks.put(r.partition(), hw);
      }
      if (r.lastOffset() >= hw) {
        return false;
      }
    }
    return true;
  }

  private long highWatermark(TopicPartitionId tp) throws Exception {
    try {
      return ownership.describe(tp).get(30, TimeUnit.SECONDS).highWatermark();
    } catch (java.util.concurrent.ExecutionException e) {
      if (StorageException.unwrap(e) instanceof StorageException se
          && se.kind() == Kind.UNKNOWN_PARTITION) {
        return Long.MAX_VALUE; // deleted: nothing of it is needed
      }
      throw e;
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
