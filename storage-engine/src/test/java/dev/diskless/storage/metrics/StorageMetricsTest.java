package dev.diskless.storage.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Gauges keep reading their supplier for the life of the registry. */
class StorageMetricsTest {

  @Test
  void aGaugeOfALambdaSurvivesGarbageCollection() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StorageMetrics metrics = new StorageMetrics(registry);
    AtomicInteger owned = new AtomicInteger(17);
    metrics.gauge("diskless.partitions.owned", owned::get);
    metrics.cacheSize("tail", () -> 42L);
    // A gauge built on MeterRegistry.gauge(...) holds its lambda weakly and reads NaN once it is
    // collected: exactly what the operator's deletion cost read from every broker.
    for (int i = 0; i < 5; i++) {
      List<byte[]> garbage = new java.util.ArrayList<>();
      for (int j = 0; j < 1000; j++) {
        garbage.add(new byte[1024]);
      }
      garbage.clear();
      System.gc();
    }
    assertThat(registry.get("diskless.partitions.owned").gauge().value()).isEqualTo(17.0);
    assertThat(registry.get("diskless.cache.bytes").tag("cache", "tail").gauge().value())
        .isEqualTo(42.0);
  }

  @Test
  void aPartitionsGaugesFollowTheirLatestValueAndGoWhenRemoved() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StorageMetrics metrics = new StorageMetrics(registry);
    metrics.partitionGauge("diskless.key.compaction.dirty.ratio", "table", 0, 0.75);
    metrics.partitionGauge("diskless.key.compaction.dirty.ratio", "table", 0, 0.25);
    metrics.partitionGauge("diskless.key.compaction.dirty.ratio", "table", 1, 0.5);
    assertThat(
            registry
                .get("diskless.key.compaction.dirty.ratio")
                .tags("topic", "table", "partition", "0")
                .gauge()
                .value())
        .isEqualTo(0.25);

    metrics.removePartitionGauges("table", 0);

    assertThat(
            registry
                .find("diskless.key.compaction.dirty.ratio")
                .tags("topic", "table", "partition", "0")
                .gauge())
        .isNull();
    assertThat(
            registry
                .get("diskless.key.compaction.dirty.ratio")
                .tags("topic", "table", "partition", "1")
                .gauge()
                .value())
        .isEqualTo(0.5);
    // Registered again after removal, e.g. when the partition comes back.
    metrics.partitionGauge("diskless.key.compaction.dirty.ratio", "table", 0, 0.1);
    assertThat(
            registry
                .get("diskless.key.compaction.dirty.ratio")
                .tags("topic", "table", "partition", "0")
                .gauge()
                .value())
        .isEqualTo(0.1);
  }
}
