package dev.diskless.e2e.bench;

import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.compaction.CompactionConfig;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.log.ReadResult;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import dev.diskless.storage.objectstore.S3ObjectStore;
import dev.diskless.storage.testing.PostgresFixture;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.TestBatches;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures the storage engine on this machine against the object store it writes to, in the same
 * run: append throughput and latency of the object WAL next to raw PUTs of the same S3Proxy at the
 * same object size and parallelism; PUTs per MB written; catch-up read throughput and GETs per MB
 * with the block cache on and off, before and after compaction. Real S3Proxy (filesystem) and real
 * PostgreSQL, as in the tests.
 *
 * <p>Run: {@code e2e/bench-storage.sh [--total-mb 256] [--partitions 64] [--producers 64]
 * [--in-flight 5]}.
 */
public final class StorageEngineBenchmark {

  /** What to run. */
  public record Options(
      int partitions,
      int producers,
      int inFlight,
      int recordSize,
      int recordsPerBatch,
      long totalBytes,
      int readers) {

    private static final java.util.Set<String> KNOWN =
        java.util.Set.of(
            "--partitions",
            "--producers",
            "--in-flight",
            "--records-per-batch",
            "--total-mb",
            "--readers");

    static Options parse(String[] args) {
      java.util.Map<String, Integer> v = new java.util.HashMap<>();
      for (int i = 0; i + 1 < args.length; i += 2) {
        if (!KNOWN.contains(args[i])) {
          throw new IllegalArgumentException("unknown option " + args[i] + "; known: " + KNOWN);
        }
        v.put(args[i], Integer.parseInt(args[i + 1]));
      }
      return new Options(
          v.getOrDefault("--partitions", 64),
          v.getOrDefault("--producers", 64),
          v.getOrDefault("--in-flight", 5),
          1024,
          v.getOrDefault("--records-per-batch", 16),
          (long) v.getOrDefault("--total-mb", 256) << 20,
          v.getOrDefault("--readers", 4));
    }
  }

  /** One row of the read table. */
  public record ReadRun(String name, double mbPerSec, double getsPerMb, long bytes) {}

  /** Everything measured. */
  public record Report(
      Options options,
      double appendMbPerSec,
      double appendP50Ms,
      double appendP99Ms,
      double meanObjectBytes,
      long walObjects,
      double putsPerMb,
      double rawPutMbPerSec,
      double rawPutP50Ms,
      double rawPutP99Ms,
      double commitP50Ms,
      double commitP99Ms,
      double volumeMbPerSec,
      double volumeP50Ms,
      double volumeP99Ms,
      List<ReadRun> reads) {

    public String table() {
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              "storage engine benchmark: %d partitions, %d producers x %d in flight, %d x %d B records per batch, %d MiB written%n",
              options.partitions,
              options.producers,
              options.inFlight,
              options.recordsPerBatch,
              options.recordSize,
              options.totalBytes >> 20));
      sb.append("| measure | object WAL | raw PUT, same S3Proxy | ratio |\n|---|---|---|---|\n");
      sb.append(
          String.format(
              "| MB/s | %.1f | %.1f | %.2f |%n",
              appendMbPerSec, rawPutMbPerSec, appendMbPerSec / rawPutMbPerSec));
      sb.append(
          String.format(
              "| p50 latency ms | %.1f (append) | %.1f (PUT) | |%n", appendP50Ms, rawPutP50Ms));
      sb.append(
          String.format(
              "| p99 latency ms | %.1f (append) | %.1f (PUT) | |%n", appendP99Ms, rawPutP99Ms));
      sb.append(
          String.format(
              "| object size KiB | %.0f | %.0f | |%n",
              meanObjectBytes / 1024, meanObjectBytes / 1024));
      sb.append(
          String.format(
              "| metadata commit ms p50 / p99 | %.1f / %.1f | | |%n", commitP50Ms, commitP99Ms));
      sb.append(String.format("| PUTs per MB written | %.2f | | |%n", putsPerMb));
      sb.append(String.format("| WAL objects | %d | | |%n", walObjects));
      sb.append(
          String.format(
              "%n| volume WAL (fsync on local disk) | MB/s %.1f | append p50 %.1f ms | p99 %.1f ms |%n",
              volumeMbPerSec, volumeP50Ms, volumeP99Ms));
      sb.append("\n| catch-up read | MB/s | GETs per MB |\n|---|---|---|\n");
      for (ReadRun r : reads) {
        sb.append(String.format("| %s | %.1f | %.2f |%n", r.name, r.mbPerSec, r.getsPerMb));
      }
      return sb.toString();
    }
  }

  public static void main(String[] args) throws Exception {
    Report report = run(Options.parse(args));
    System.out.println(report.table());
    System.exit(0);
  }

  public static Report run(Options o) throws Exception {
    ObjectStoreConfig bucket =
        S3ProxyFixture.get()
            .newBucket()
            .withRetries(10, Duration.ofMillis(25), Duration.ofSeconds(2), Duration.ofSeconds(30));
    var pg = PostgresFixture.get().newDatabase();
    StorageConfig config =
        StorageConfig.defaults(bucket, pg)
            .withCompaction(
                new CompactionConfig(
                    Duration.ofHours(1), 1, 64L << 20, 1 << 20, Duration.ofMinutes(10)));
    try (MetadataStore metadata = MetadataStore.open(pg)) {
      int node =
          new BrokerRegistry(metadata)
              .register("bench", "127.0.0.1", 1, Optional.empty(), Duration.ofMinutes(30))
              .join()
              .nodeId();
      TopicInfo topic = new TopicStore(metadata).create("bench", o.partitions, Map.of()).join();
      PartitionOwnership ownership = new PartitionOwnership(metadata);
      List<TopicPartitionId> tps = new ArrayList<>();
      int[] epochs = new int[o.partitions];
      for (int p = 0; p < o.partitions; p++) {
        TopicPartitionId tp = new TopicPartitionId(topic.topicId(), p);
        tps.add(tp);
        epochs[p] = ownership.acquire(tp, node).join().leaderEpoch();
      }

      StorageMetrics writeMetrics = StorageMetrics.noExport();
      S3ObjectStore writeStore = new S3ObjectStore(bucket, writeMetrics);
      StorageEngine writer =
          new StorageEngine(config, node, metadata, writeStore, writeMetrics, () -> false);
      for (TopicPartitionId tp : tps) {
        writer.logs().open(tp).join();
      }

      // Warm-up (JIT, connection pools, S3 connections), not measured; its data is read back below
      // too.
      write(writer, tps, epochs, warmup(o));
      Timer warmupPuts = StorageEngineBenchmark.putTimer(writeMetrics);
      long putsBefore = warmupPuts == null ? 0 : warmupPuts.count();
      long flushesBefore = flushCount(writeMetrics);
      double flushBytesBefore = flushBytesTotal(writeMetrics);
      WriteRun objectRun = write(writer, tps, epochs, o);
      double writeSeconds = objectRun.seconds;
      long batches = objectRun.batches;
      long batchBytes = objectRun.batchBytes;
      Percentiles appendLatency = objectRun.latency;
      Timer commits = writeMetrics.registry().find("diskless.wal.commit.latency").timer();
      double commitP50 = percentile(commits, 0.5);
      double commitP99 = percentile(commits, 0.99);
      double mbWritten = batches * batchBytes / 1e6;
      DistributionSummary flushBytes =
          writeMetrics.registry().find("diskless.wal.flush.bytes").summary();
      long walObjects = flushBytes.count() - flushesBefore;
      double meanObject = (flushBytes.totalAmount() - flushBytesBefore) / walObjects;
      Timer puts =
          writeMetrics
              .registry()
              .find("diskless.objectstore.requests")
              .tag("operation", "put")
              .timer();

      // Raw PUTs of the same size, count and parallelism against the same store.
      Percentiles putLatency = new Percentiles();
      double rawMbPerSec =
          rawPuts(
              writeStore,
              (int) meanObject,
              walObjects,
              config.wal().maxInFlightFlushes(),
              putLatency);

      List<ReadRun> reads = new ArrayList<>();
      reads.add(
          read(
              "WAL objects, block cache off",
              config.withCaches(0, 0),
              node + 1000,
              metadata,
              bucket,
              tps,
              o));
      reads.add(
          read(
              "WAL objects, block cache on",
              config.withCaches(0, 256L << 20),
              node + 1001,
              metadata,
              bucket,
              tps,
              o));
      writer.maintenance().runOnce().join();
      reads.add(
          read(
              "segments, block cache off",
              config.withCaches(0, 0),
              node + 1002,
              metadata,
              bucket,
              tps,
              o));
      reads.add(
          read(
              "segments, block cache on",
              config.withCaches(0, 256L << 20),
              node + 1003,
              metadata,
              bucket,
              tps,
              o));
      writer.close();
      writeStore.close();
      WriteRun volume = volumeRun(config, metadata, bucket, o);
      return new Report(
          o,
          mbWritten / writeSeconds,
          appendLatency.millis(50),
          appendLatency.millis(99),
          meanObject,
          walObjects,
          (puts.count() - putsBefore) / mbWritten,
          rawMbPerSec,
          putLatency.millis(50),
          putLatency.millis(99),
          commitP50,
          commitP99,
          volume.mbPerSec(),
          volume.latency.millis(50),
          volume.latency.millis(99),
          reads);
    }
  }

  private record WriteRun(double seconds, long batches, long batchBytes, Percentiles latency) {
    double mbPerSec() {
      return batches * batchBytes / 1e6 / seconds;
    }
  }

  /**
   * Each producer owns a slice of the partitions and keeps up to inFlight appends in flight, as a
   * Kafka producer does (max.in.flight.requests.per.connection=5).
   */
  private static WriteRun write(
      StorageEngine writer, List<TopicPartitionId> tps, int[] epochs, Options o) {
    ByteBuffer batch = TestBatches.sized(o.recordsPerBatch, o.recordSize, "bench");
    long batchBytes = batch.remaining();
    long batches = o.totalBytes / batchBytes;
    AtomicLong remaining = new AtomicLong(batches);
    Percentiles latency = new Percentiles();
    AtomicLong failures = new AtomicLong();
    long start = System.nanoTime();
    try (ExecutorService producers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int t = 0; t < o.producers; t++) {
        int first = t;
        producers.execute(
            () -> {
              Semaphore window = new Semaphore(o.inFlight);
              for (int i = 0; remaining.decrementAndGet() >= 0; i++) {
                int p = (first + i * o.producers) % o.partitions;
                window.acquireUninterruptibly();
                long s = System.nanoTime();
                writer
                    .logs()
                    .append(tps.get(p), epochs[p], batch.duplicate(), AppendOptions.defaults())
                    .whenComplete(
                        (r, error) -> {
                          if (error != null) {
                            failures.incrementAndGet();
                          }
                          latency.add(System.nanoTime() - s);
                          window.release();
                        });
              }
              window.acquireUninterruptibly(o.inFlight);
            });
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " appends failed during the benchmark");
    }
    return new WriteRun(seconds, batches, batchBytes, latency);
  }

  /**
   * The same workload through the volume WAL (fsync on a local directory standing in for the shared
   * volume).
   */
  private static WriteRun volumeRun(
      StorageConfig config, MetadataStore metadata, ObjectStoreConfig bucket, Options o)
      throws Exception {
    BrokerRegistry registry = new BrokerRegistry(metadata);
    long sent = System.nanoTime();
    var registration =
        registry
            .register("bench-volume", "127.0.0.1", 2, Optional.empty(), Duration.ofSeconds(30))
            .join();
    java.nio.file.Path root = java.nio.file.Files.createTempDirectory("bench-volume-wal");
    TopicInfo topic =
        new TopicStore(metadata).create("bench-volume", o.partitions, Map.of()).join();
    PartitionOwnership ownership = new PartitionOwnership(metadata);
    StorageMetrics metrics = StorageMetrics.noExport();
    try (var lease =
            new dev.diskless.storage.metadata.LeaseKeeper(
                    registry,
                    registration,
                    Duration.ofSeconds(30),
                    sent,
                    0.01,
                    Duration.ofMillis(100))
                .start();
        S3ObjectStore store = new S3ObjectStore(bucket, metrics);
        StorageEngine engine =
            StorageEngine.withLease(
                config.withVolumeWal(dev.diskless.storage.wal.volume.VolumeWalConfig.at(root)),
                registration,
                lease,
                metadata,
                store,
                metrics,
                () -> false)) {
      List<TopicPartitionId> tps = new ArrayList<>();
      int[] epochs = new int[o.partitions];
      for (int p = 0; p < o.partitions; p++) {
        TopicPartitionId tp = new TopicPartitionId(topic.topicId(), p);
        tps.add(tp);
        epochs[p] = ownership.acquire(tp, registration.nodeId()).join().leaderEpoch();
        engine.logs().open(tp).join();
      }
      write(engine, tps, epochs, warmup(o));
      return write(engine, tps, epochs, o);
    } finally {
      // The WAL files are the run's only; every CI run left an empty directory behind.
      try (var files = java.nio.file.Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static Options warmup(Options o) {
    return new Options(
        o.partitions,
        o.producers,
        o.inFlight,
        o.recordSize,
        o.recordsPerBatch,
        o.totalBytes / 8,
        o.readers);
  }

  private static Timer putTimer(StorageMetrics metrics) {
    return metrics.registry().find("diskless.objectstore.requests").tag("operation", "put").timer();
  }

  private static long flushCount(StorageMetrics metrics) {
    DistributionSummary s = metrics.registry().find("diskless.wal.flush.bytes").summary();
    return s == null ? 0 : s.count();
  }

  private static double flushBytesTotal(StorageMetrics metrics) {
    DistributionSummary s = metrics.registry().find("diskless.wal.flush.bytes").summary();
    return s == null ? 0 : s.totalAmount();
  }

  private static double percentile(Timer timer, double p) {
    for (var v : timer.takeSnapshot().percentileValues()) {
      if (Math.abs(v.percentile() - p) < 1e-9) {
        return v.value(java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    }
    return Double.NaN;
  }

  private static double rawPuts(
      S3ObjectStore store, int size, long count, int parallelism, Percentiles latency)
      throws InterruptedException {
    byte[] data = new byte[size];
    new java.util.Random(1).nextBytes(data);
    Semaphore slots = new Semaphore(parallelism);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    long start = System.nanoTime();
    for (long i = 0; i < count; i++) {
      slots.acquire();
      long s = System.nanoTime();
      all.add(
          store
              .put("raw/" + UUID.randomUUID(), ByteBuffer.wrap(data))
              .whenComplete(
                  (v, t) -> {
                    latency.add(System.nanoTime() - s);
                    slots.release();
                  }));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    return (double) size * count / 1e6 / ((System.nanoTime() - start) / 1e9);
  }

  private static ReadRun read(
      String name,
      StorageConfig config,
      int node,
      MetadataStore metadata,
      ObjectStoreConfig bucket,
      List<TopicPartitionId> tps,
      Options o)
      throws InterruptedException {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(bucket, metrics);
        StorageEngine engine =
            new StorageEngine(config, node, metadata, store, metrics, () -> false)) {
      AtomicLong bytes = new AtomicLong();
      AtomicLong next = new AtomicLong();
      long start = System.nanoTime();
      try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int r = 0; r < o.readers; r++) {
          readers.execute(
              () -> {
                // Like a consumer: one fetch per assigned partition per round (256 KiB each, as
                // fetch.max.bytes spread over the assignment), until every partition is at its end.
                int reader = (int) next.getAndIncrement();
                List<TopicPartitionId> assigned = new ArrayList<>();
                for (int p = reader; p < tps.size(); p += o.readers) {
                  assigned.add(tps.get(p));
                }
                long[] offsets = new long[assigned.size()];
                boolean progress = true;
                while (progress) {
                  progress = false;
                  for (int i = 0; i < assigned.size(); i++) {
                    ReadResult res =
                        engine.reader().read(assigned.get(i), offsets[i], 256 << 10).join();
                    if (res.isEmpty()) {
                      continue;
                    }
                    progress = true;
                    bytes.addAndGet(res.records().remaining());
                    var records = TestBatches.read(res.records());
                    offsets[i] = records.get(records.size() - 1).offset() + 1;
                  }
                }
              });
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Timer gets =
          metrics.registry().find("diskless.objectstore.requests").tag("operation", "get").timer();
      double mb = bytes.get() / 1e6;
      return new ReadRun(name, mb / seconds, (gets == null ? 0 : gets.count()) / mb, bytes.get());
    }
  }
}
