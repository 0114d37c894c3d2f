package dev.diskless.storage.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Every meter the storage engine publishes, under the {@code diskless.} prefix, so that the broker
 * exports them to Prometheus without knowing the engine's internals. Latency timers publish
 * percentiles and histograms.
 */
public final class StorageMetrics {

  private final MeterRegistry registry;
  // Meters with fixed tags that every append or read touches: registered once, not looked up per
  // call.
  private final Timer appendLatency;
  private final Counter bytesIn;
  private final Counter bytesOut;
  private final java.util.Map<String, Counter> cacheHits =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<String, Counter> cacheMisses =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<GaugeKey, AtomicReference<Supplier<Number>>> gauges =
      new java.util.concurrent.ConcurrentHashMap<>();

  public StorageMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.appendLatency =
        Timer.builder("diskless.append.latency")
            .description("Append to acknowledgement, WAL buffer wait + upload + commit")
            .publishPercentileHistogram()
            .register(registry);
    this.bytesIn = Counter.builder("diskless.bytes.in").baseUnit("bytes").register(registry);
    this.bytesOut = Counter.builder("diskless.bytes.out").baseUnit("bytes").register(registry);
  }

  /** A private registry for tests and tools that do not export metrics. */
  public static StorageMetrics noExport() {
    return new StorageMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /**
   * One object-store call: {@code operation} is put/get/delete/list, {@code outcome} success or an
   * error class.
   */
  public void objectStoreCall(String operation, String outcome, Duration latency, long bytes) {
    Timer.builder("diskless.objectstore.requests")
        .description("Object store calls by operation and outcome")
        .tag("operation", operation)
        .tag("outcome", outcome)
        .publishPercentileHistogram()
        .register(registry)
        .record(latency);
    if (bytes > 0) {
      Counter.builder("diskless.objectstore.bytes")
          .description("Bytes moved to or from the object store")
          .tag("operation", operation)
          .baseUnit("bytes")
          .register(registry)
          .increment(bytes);
    }
  }

  /**
   * One WAL write: {@code wal} is {@code object} (an upload of a WAL object) or {@code volume} (a
   * write and fsync of the volume WAL's file), which the volume WAL's own uploads would otherwise
   * blur together.
   */
  public void walFlush(String wal, long bytes, int partitions, Duration latency) {
    DistributionSummary.builder("diskless.wal.flush.bytes")
        .description("Size of each WAL object, or of each volume WAL write")
        .baseUnit("bytes")
        .tag("wal", wal)
        .publishPercentileHistogram()
        .register(registry)
        .record(bytes);
    DistributionSummary.builder("diskless.wal.flush.partitions")
        .description("Partitions in each WAL object, or appends in each volume WAL write")
        .tag("wal", wal)
        .register(registry)
        .record(partitions);
    Timer.builder("diskless.wal.flush.latency")
        .description("Time to upload a WAL object, or to write and fsync a volume WAL burst")
        .tag("wal", wal)
        .publishPercentileHistogram()
        .register(registry)
        .record(latency);
  }

  public void walCommit(Duration latency, String outcome) {
    Timer.builder("diskless.wal.commit.latency")
        .description("Time of the metadata transaction that commits a WAL object")
        .publishPercentiles(0.5, 0.99)
        .tag("outcome", outcome)
        .publishPercentileHistogram()
        .register(registry)
        .record(latency);
  }

  public void appendLatency(Duration latency) {
    appendLatency.record(latency);
  }

  public void bytesIn(long bytes) {
    bytesIn.increment(bytes);
  }

  public void bytesOut(long bytes) {
    bytesOut.increment(bytes);
  }

  /**
   * A cache lookup: {@code cache} is tail or block, {@code hit} whether it was served from memory.
   */
  public void cacheLookup(String cache, boolean hit) {
    (hit ? cacheHits : cacheMisses)
        .computeIfAbsent(
            cache,
            c ->
                Counter.builder("diskless.cache.requests")
                    .tag("cache", c)
                    .tag("result", hit ? "hit" : "miss")
                    .register(registry))
        .increment();
  }

  public void cacheSize(String cache, Supplier<Number> bytes) {
    bind("diskless.cache.bytes", Tags.of("cache", cache), bytes);
  }

  public void gauge(String name, Supplier<Number> value) {
    bind(name, Tags.empty(), value);
  }

  /**
   * Points the gauge at {@code value}, registering it the first time. A broker that registers again
   * after losing its lease builds a new engine on the same registry, and its gauges must read the
   * new engine, not the halted one: Micrometer would hand back the first gauge, so the gauge reads
   * through a holder that each registration repoints. The holder is held strongly here; {@code
   * MeterRegistry.gauge} would keep only a weak reference, and a collected lambda reads NaN.
   */
  private void bind(String name, Tags tags, Supplier<Number> value) {
    gauges
        .computeIfAbsent(
            new GaugeKey(name, tags),
            k -> {
              AtomicReference<Supplier<Number>> holder = new AtomicReference<>();
              Gauge.builder(name, holder, h -> h.get().get().doubleValue())
                  .tags(tags)
                  .strongReference(true)
                  .register(registry);
              return holder;
            })
        .set(value);
  }

  private record GaugeKey(String name, Tags tags) {}

  public void count(String name, String tagKey, String tagValue, long amount) {
    Counter.builder(name).tag(tagKey, tagValue).register(registry).increment(amount);
  }

  /** Records one duration of {@code name}, tagged. */
  public void time(String name, Duration duration, String tagKey, String tagValue) {
    Timer.builder(name).tag(tagKey, tagValue).register(registry).record(duration);
  }

  /** Adds {@code amount} to a counter of one partition (by topic name), tagged. */
  public void partitionCount(
      String name, String topic, String partition, String tagKey, String tagValue, long amount) {
    Counter.builder(name)
        .tag("topic", topic)
        .tag("partition", partition)
        .tag(tagKey, tagValue)
        .register(registry)
        .increment(amount);
  }

  /**
   * Sets a gauge of one partition (by topic name) to {@code value}, registering it the first time;
   * {@link #removePartitionGauges} drops a partition's gauges when it moves away or goes.
   */
  public void partitionGauge(String name, String topic, int partition, Number value) {
    bind(name, Tags.of("topic", topic, "partition", String.valueOf(partition)), () -> value);
  }

  /** Drops every gauge of one partition registered by {@link #partitionGauge}. */
  public void removePartitionGauges(String topic, int partition) {
    Tags tags = Tags.of("topic", topic, "partition", String.valueOf(partition));
    gauges
        .keySet()
        .removeIf(
            k -> {
              if (!k.tags().equals(tags)) {
                return false;
              }
              registry.find(k.name()).tags(tags).meters().forEach(registry::remove);
              return true;
            });
  }
}
