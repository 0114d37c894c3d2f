package dev.diskless.storage.testing;

import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import dev.diskless.storage.objectstore.S3ObjectStore;
import dev.diskless.storage.wal.WalConfig;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Real S3Proxy + real PostgreSQL, a fresh bucket and database, and helpers to register brokers,
 * create topics and open engines. Everything opened through it is closed with it.
 */
public final class StorageHarness implements AutoCloseable {

  public final MetadataConfig metadataConfig;
  public ObjectStoreConfig objectStoreConfig;
  public final MetadataStore metadata;
  public final TopicStore topics;
  public final BrokerRegistry brokers;
  public final PartitionOwnership ownership;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private WalConfig wal =
      new WalConfig(1 << 20, Duration.ofMillis(20), 4, 64L << 20, Duration.ofMinutes(2));
  private long blockCacheBytes = 64L << 20;
  private long tailCacheBytes = 32L << 20;
  private dev.diskless.storage.compaction.CompactionConfig compaction =
      dev.diskless.storage.compaction.CompactionConfig.defaults(Duration.ofMinutes(10));

  private StorageHarness(URI s3Via) {
    metadataConfig = PostgresFixture.get().newDatabase();
    objectStoreConfig = S3ProxyFixture.get().newBucket(s3Via);
    metadata = MetadataStore.open(metadataConfig);
    topics = new TopicStore(metadata);
    brokers = new BrokerRegistry(metadata);
    ownership = new PartitionOwnership(metadata);
  }

  public static StorageHarness start() {
    return new StorageHarness(S3ProxyFixture.get().endpoint());
  }

  /** S3 traffic of the engines goes through {@code s3Via} (e.g. a fault-injecting proxy). */
  public static StorageHarness startVia(URI s3Via) {
    return new StorageHarness(s3Via);
  }

  public StorageHarness withWal(WalConfig config) {
    this.wal = config;
    return this;
  }

  /** Changes how engines opened from now on reach the object store (e.g. fewer retries). */
  public StorageHarness withObjectStore(
      java.util.function.UnaryOperator<ObjectStoreConfig> change) {
    this.objectStoreConfig = change.apply(objectStoreConfig);
    return this;
  }

  public StorageHarness withCompaction(dev.diskless.storage.compaction.CompactionConfig config) {
    this.compaction = config;
    return this;
  }

  /** Engines opened from now on keep at most {@code bytes} in their tail cache. */
  public StorageHarness withTailCache(long bytes) {
    this.tailCacheBytes = bytes;
    return this;
  }

  public StorageHarness withBlockCache(long bytes) {
    this.blockCacheBytes = bytes;
    return this;
  }

  public StorageConfig config() {
    return StorageConfig.defaults(objectStoreConfig, metadataConfig)
        .withWal(wal)
        .withCaches(tailCacheBytes, blockCacheBytes)
        .withCompaction(compaction);
  }

  public BrokerRegistration register(String name) {
    return brokers
        .register(name, "127.0.0.1", 9092, Optional.empty(), Duration.ofSeconds(30))
        .join();
  }

  public S3ObjectStore objectStore(StorageMetrics metrics) {
    S3ObjectStore store = new S3ObjectStore(objectStoreConfig, metrics);
    closeables.add(store);
    return store;
  }

  /** An engine for {@code node}, with its own object store client and metrics. */
  public StorageEngine engine(int node, StorageMetrics metrics) {
    S3ObjectStore store = objectStore(metrics);
    StorageEngine engine = new StorageEngine(config(), node, metadata, store, metrics, () -> true);
    closeables.add(engine);
    return engine;
  }

  /**
   * A volume-WAL engine for a registered broker, guarded by {@code lease}, writing under {@code
   * root}, reaching the object store with {@code objects} (e.g. through a fault proxy).
   */
  public StorageEngine volumeEngine(
      BrokerRegistration registration,
      dev.diskless.storage.metadata.LeaseGuard lease,
      java.nio.file.Path root,
      ObjectStoreConfig objects) {
    return volumeEngine(registration, lease, root, objects, StorageMetrics.noExport());
  }

  /** The same, reporting to {@code metrics}. */
  public StorageEngine volumeEngine(
      BrokerRegistration registration,
      dev.diskless.storage.metadata.LeaseGuard lease,
      java.nio.file.Path root,
      ObjectStoreConfig objects,
      StorageMetrics metrics) {
    S3ObjectStore store = new S3ObjectStore(objects, metrics);
    closeables.add(store);
    StorageEngine engine =
        StorageEngine.withLease(
            config()
                .withVolumeWal(
                    new dev.diskless.storage.wal.volume.VolumeWalConfig(
                        root, 1 << 20, 1L << 30, Duration.ofSeconds(30))),
            registration,
            lease,
            metadata,
            store,
            metrics,
            () -> true);
    closeables.add(engine);
    return engine;
  }

  public StorageEngine engine(int node) {
    return engine(node, StorageMetrics.noExport());
  }

  public TopicInfo topic(String name, int partitions) {
    return topics.create(name, partitions, Map.of()).join();
  }

  public static TopicPartitionId tp(TopicInfo topic, int partition) {
    return new TopicPartitionId(topic.topicId(), partition);
  }

  /**
   * Makes {@code node} the owner of every partition of {@code topic} and opens them in {@code
   * engine}.
   */
  public void own(StorageEngine engine, TopicInfo topic) {
    for (int p = 0; p < topic.partitionCount(); p++) {
      TopicPartitionId tp = tp(topic, p);
      ownership.acquire(tp, engine.nodeId()).join();
      engine.logs().open(tp).join();
    }
  }

  /**
   * {@code rounds} rounds of one append to every partition of {@code topic} at once, each of two ~1
   * KB records valued {@code <tag><partition>-<round>-0} and {@code -1}; returns each partition's
   * values in offset order.
   */
  public List<List<String>> appendRounds(
      StorageEngine engine, TopicInfo topic, int rounds, String tag) {
    List<List<String>> sent = new ArrayList<>();
    for (int p = 0; p < topic.partitionCount(); p++) {
      sent.add(new ArrayList<>());
    }
    return appendRounds(engine, topic, rounds, tag, sent);
  }

  /** The same, adding to what {@code sent} holds already. */
  public List<List<String>> appendRounds(
      StorageEngine engine, TopicInfo topic, int rounds, String tag, List<List<String>> sent) {
    for (int i = 0; i < rounds; i++) {
      List<CompletableFuture<List<String>>> round = new ArrayList<>();
      for (int p = 0; p < topic.partitionCount(); p++) {
        round.add(appendTwo(engine, tp(topic, p), tag + p + "-" + i));
      }
      for (int p = 0; p < topic.partitionCount(); p++) {
        sent.get(p).addAll(round.get(p).join());
      }
    }
    return sent;
  }

  /**
   * One append to {@code tp} at its current epoch of two ~1 KB records valued {@code value-0} and
   * {@code value-1}; completes with those values once acknowledged.
   */
  public CompletableFuture<List<String>> appendTwo(
      StorageEngine engine, TopicPartitionId tp, String value) {
    return engine
        .logs()
        .append(tp, epoch(tp), TestBatches.sized(2, 1000, value), AppendOptions.defaults())
        .thenApply(r -> List.of(value + "-0", value + "-1"));
  }

  /**
   * The first column of the first row of {@code query}, as a long: counts and sums in assertions.
   */
  public long queryLong(String query) {
    return metadata.inTransaction(
        c -> {
          try (java.sql.ResultSet rs = c.createStatement().executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  public int epoch(TopicPartitionId tp) {
    return ownership.describe(tp).join().leaderEpoch();
  }

  public static UUID id() {
    return UUID.randomUUID();
  }

  @Override
  public void close() {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception ignored) {
        // best effort
      }
    }
    metadata.close();
  }
}
