package dev.diskless.storage;

import dev.diskless.storage.cache.BlockCache;
import dev.diskless.storage.cache.IndexCache;
import dev.diskless.storage.cache.TailCache;
import dev.diskless.storage.compaction.CompactionConfig;
import dev.diskless.storage.compaction.KeyCompactor;
import dev.diskless.storage.compaction.ObjectCleaner;
import dev.diskless.storage.compaction.RetentionEnforcer;
import dev.diskless.storage.compaction.SegmentCompactor;
import dev.diskless.storage.compaction.StorageMaintenance;
import dev.diskless.storage.compaction.WalGroupCompactor;
import dev.diskless.storage.log.LogReader;
import dev.diskless.storage.log.PartitionLogs;
import dev.diskless.storage.metadata.AbortedTransactions;
import dev.diskless.storage.metadata.BatchIndex;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.CompactionStore;
import dev.diskless.storage.metadata.FlushCommitter;
import dev.diskless.storage.metadata.KeyCompactionStore;
import dev.diskless.storage.metadata.LeaderEpochs;
import dev.diskless.storage.metadata.LeaseGuard;
import dev.diskless.storage.metadata.LogBounds;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.ObjectLifecycle;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.ProducerStateStore;
import dev.diskless.storage.metadata.RetentionStore;
import dev.diskless.storage.metadata.TopicStore;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import dev.diskless.storage.wal.ObjectWal;
import dev.diskless.storage.wal.WriteAheadLog;
import dev.diskless.storage.wal.volume.VolumeJanitor;
import dev.diskless.storage.wal.volume.VolumeRecovery;
import dev.diskless.storage.wal.volume.VolumeWal;
import dev.diskless.storage.wal.volume.VolumeWalConfig;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's storage: the partitions it owns (write side, through the object WAL), reads of any
 * partition, and the metadata operations around them. The broker registers first (to learn its node
 * id) and then opens the engine with that id; the metadata and object stores are shared and outlive
 * the engine.
 *
 * <p>{@code cleanerLeader} says whether this engine should delete unreferenced and orphaned objects
 * (the broker passes "I hold the controller lease"); every engine compacts and applies retention to
 * the partitions it owns.
 */
public final class StorageEngine implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StorageEngine.class);

  private final int nodeId;
  private final PartitionLogs logs;
  private final LogReader reader;
  private final BlockCache blockCache;
  private final WriteAheadLog wal;
  private final PartitionOwnership ownership;
  private final LogBounds logBounds;
  private final StorageMaintenance maintenance;
  private final CrashPoints crashPoints;

  /** An engine with the object WAL; a volume WAL needs {@link #withLease}. */
  public StorageEngine(
      StorageConfig config,
      int nodeId,
      MetadataStore metadata,
      ObjectStore objectStore,
      StorageMetrics metrics,
      BooleanSupplier cleanerLeader) {
    this(
        objectWalOnly(config),
        new BrokerRegistration(nodeId, 0),
        () -> true,
        metadata,
        objectStore,
        metrics,
        cleanerLeader);
  }

  private static StorageConfig objectWalOnly(StorageConfig config) {
    if (config.volumeWal().isPresent()) {
      throw new IllegalArgumentException(
          "the volume WAL needs the broker's lease: use StorageEngine.withLease");
    }
    return config;
  }

  /**
   * An engine for a registered broker whose lease {@code lease} guards acknowledgements; required
   * for the volume WAL, whose directory is named after the registration.
   */
  public static StorageEngine withLease(
      StorageConfig config,
      BrokerRegistration registration,
      LeaseGuard lease,
      MetadataStore metadata,
      ObjectStore objectStore,
      StorageMetrics metrics,
      BooleanSupplier cleanerLeader) {
    return new StorageEngine(
        config, registration, lease, metadata, objectStore, metrics, cleanerLeader);
  }

  private StorageEngine(
      StorageConfig config,
      BrokerRegistration registration,
      LeaseGuard lease,
      MetadataStore metadata,
      ObjectStore objectStore,
      StorageMetrics metrics,
      BooleanSupplier cleanerLeader) {
    int nodeId = registration.nodeId();
    this.nodeId = nodeId;
    this.ownership = new PartitionOwnership(metadata);
    this.logBounds = new LogBounds(metadata);
    TailCache tailCache = new TailCache(config.tailCacheBytes(), metrics);
    this.blockCache = new BlockCache(objectStore, config.blockCacheBytes(), metrics);
    IndexCache indexCache = new IndexCache(metrics);
    AbortedTransactions abortedTransactions = new AbortedTransactions(metadata);
    this.logs =
        new PartitionLogs(
            nodeId,
            ownership,
            new ProducerStateStore(metadata),
            abortedTransactions,
            new LeaderEpochs(metadata),
            tailCache,
            metrics);
    FlushCommitter committer = new FlushCommitter(metadata);
    // Fault tests arm one through the process environment; never set in production.
    this.crashPoints = CrashPoints.fromEnvironment(System.getenv());
    crashPoints.armed().ifPresent(p -> LOG.warn("node={} test crash point {} is armed", nodeId, p));
    if (config.volumeWal().isPresent()) {
      VolumeWalConfig configured = config.volumeWal().get();
      // Acknowledged data not yet in metadata can be served only from the tail cache, where the
      // newest chunks are
      // the last evicted: bounding it by the cache keeps all of it readable.
      VolumeWalConfig volume =
          new VolumeWalConfig(
              configured.root(),
              configured.segmentBytes(),
              Math.min(configured.maxUnuploadedBytes(), config.tailCacheBytes()),
              configured.leaseWait());
      this.wal =
          new VolumeWal(
              volume,
              volume.root().resolve(nodeId + "-" + registration.brokerEpoch()),
              lease,
              logs,
              // Appends are acknowledged from the volume; uploads gain nothing from group commit.
              listener ->
                  new ObjectWal(
                      config.wal().withoutGroupCommit(),
                      objectStore,
                      committer,
                      listener,
                      metrics,
                      nodeId,
                      crashPoints),
              ownership,
              new VolumeRecovery(
                  volume, new BrokerRegistry(metadata), new ProducerStateStore(metadata), nodeId),
              metrics);
    } else {
      this.wal =
          new ObjectWal(config.wal(), objectStore, committer, logs, metrics, nodeId, crashPoints);
    }
    logs.attach(wal);
    this.reader =
        new LogReader(
            logs,
            ownership,
            abortedTransactions,
            new BatchIndex(metadata),
            tailCache,
            blockCache,
            indexCache,
            metrics);
    CompactionConfig compaction = config.compaction();
    CompactionStore compactionStore = new CompactionStore(metadata);
    this.maintenance =
        new StorageMaintenance(
            compaction,
            logs,
            new TopicStore(metadata),
            new RetentionEnforcer(
                new RetentionStore(metadata), logs, logBounds, System::currentTimeMillis),
            new SegmentCompactor(
                compaction, compactionStore, objectStore, tailCache, metrics, nodeId),
            new WalGroupCompactor(
                compaction, compactionStore, objectStore, tailCache, metrics, nodeId),
            new KeyCompactor(
                compaction,
                new KeyCompactionStore(metadata),
                objectStore,
                logs,
                metrics,
                nodeId,
                System::currentTimeMillis,
                // Readers see the rewritten log from the index, not from a cached copy of either.
                (tp, offset) -> {
                  tailCache.invalidateBelow(tp, offset);
                  indexCache.invalidate(tp);
                },
                crashPoints),
            compactionStore,
            new ObjectCleaner(
                new ObjectLifecycle(metadata),
                objectStore,
                metrics,
                compaction.orphanGrace(),
                Instant::now),
            cleanerLeader,
            metrics);
    config
        .volumeWal()
        .ifPresent(
            volume -> {
              VolumeJanitor janitor =
                  new VolumeJanitor(volume, new BrokerRegistry(metadata), ownership);
              maintenance.addCleaning(janitor::sweep);
            });
  }

  public int nodeId() {
    return nodeId;
  }

  /** The test-only crash point armed in this process, if any (never in production). */
  public CrashPoints crashPoints() {
    return crashPoints;
  }

  /** The write side: open, append, release and hand over owned partitions. */
  public PartitionLogs logs() {
    return logs;
  }

  /** The read side: reads and timestamp look-ups of any partition. */
  public LogReader reader() {
    return reader;
  }

  public PartitionOwnership ownership() {
    return ownership;
  }

  public LogBounds logBounds() {
    return logBounds;
  }

  /**
   * Retention, compaction and object cleaning; {@link StorageMaintenance#start()} schedules them.
   */
  public StorageMaintenance maintenance() {
    return maintenance;
  }

  /**
   * Stops at once, flushing nothing and waiting for nothing, as a crash would: appends not yet
   * acknowledged fail, and what the volume WAL acknowledged stays on the volume for the next owner.
   * The broker calls this when it lost its lease and must stop acting immediately, even while the
   * metadata store is unreachable.
   */
  public void halt() {
    maintenance.close();
    wal.halt();
    logs.halt();
    blockCache.close();
  }

  /** Flushes and commits everything appended so far, then stops accepting appends. */
  @Override
  public void close() {
    maintenance.close();
    wal.close();
    blockCache.close();
  }
}
