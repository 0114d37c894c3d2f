package dev.diskless.storage;

import dev.diskless.storage.compaction.CompactionConfig;
import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import dev.diskless.storage.wal.WalConfig;
import dev.diskless.storage.wal.volume.VolumeWalConfig;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the storage engine is configured with. The broker builds it from its own configuration
 * file and environment; the operator renders that file.
 *
 * @param tailCacheBytes memory for recently committed batches (default 256 MiB)
 * @param blockCacheBytes memory for ranges read from objects by catch-up readers; 0 disables it
 *     (default 256 MiB)
 * @param compaction background retention, compaction and cleaning; its orphan grace period must be
 *     at least twice the WAL commit deadline (default: every 30 s, 4 MiB of WAL per partition, 64
 *     MiB segments, 10 min grace)
 */
public record StorageConfig(
    ObjectStoreConfig objectStore,
    MetadataConfig metadata,
    WalConfig wal,
    long tailCacheBytes,
    long blockCacheBytes,
    CompactionConfig compaction,
    Optional<VolumeWalConfig> volumeWal) {

  public StorageConfig {
    Objects.requireNonNull(objectStore, "objectStore");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(wal, "wal");
    Objects.requireNonNull(compaction, "compaction");
    Objects.requireNonNull(volumeWal, "volumeWal");
    Duration orphanGrace = compaction.orphanGrace();
    if (tailCacheBytes < 0 || blockCacheBytes < 0) {
      throw new IllegalArgumentException("cache sizes must be >= 0");
    }
    if (orphanGrace.compareTo(wal.commitDeadline().multipliedBy(2)) < 0) {
      throw new IllegalArgumentException(
          "orphanGrace ("
              + orphanGrace
              + ") must be at least twice the WAL commit deadline ("
              + wal.commitDeadline()
              + "), or a slow commit could reference a swept object");
    }
  }

  public static StorageConfig defaults(ObjectStoreConfig objectStore, MetadataConfig metadata) {
    return new StorageConfig(
        objectStore,
        metadata,
        WalConfig.defaults(),
        256L << 20,
        256L << 20,
        CompactionConfig.defaults(Duration.ofMinutes(10)),
        Optional.empty());
  }

  public StorageConfig withWal(WalConfig newWal) {
    return new StorageConfig(
        objectStore, metadata, newWal, tailCacheBytes, blockCacheBytes, compaction, volumeWal);
  }

  public StorageConfig withCaches(long tailBytes, long blockBytes) {
    return new StorageConfig(
        objectStore, metadata, wal, tailBytes, blockBytes, compaction, volumeWal);
  }

  /** Switches to the volume WAL (object WAL when empty). */
  public StorageConfig withVolumeWal(VolumeWalConfig config) {
    return new StorageConfig(
        objectStore,
        metadata,
        wal,
        tailCacheBytes,
        blockCacheBytes,
        compaction,
        Optional.of(config));
  }

  public StorageConfig withCompaction(CompactionConfig newCompaction) {
    return new StorageConfig(
        objectStore, metadata, wal, tailCacheBytes, blockCacheBytes, newCompaction, volumeWal);
  }
}
