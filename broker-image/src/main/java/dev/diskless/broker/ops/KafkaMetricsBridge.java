package dev.diskless.broker.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;

/**
 * Publishes the numeric metrics of an embedded Kafka component (the group coordinator's runtime and
 * shard metrics, the authorizer's counts of allowed and denied actions) as Micrometer gauges named
 * {@code kafka.<group>.<name>} with Kafka's tags, so they reach /metrics like ours.
 */
public final class KafkaMetricsBridge implements MetricsReporter {

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(KafkaMetricsBridge.class);

  private final MeterRegistry registry;
  private final Map<MetricName, Meter> meters = new ConcurrentHashMap<>();

  public KafkaMetricsBridge(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void init(List<KafkaMetric> metrics) {
    metrics.forEach(this::metricChange);
  }

  @Override
  public void metricChange(KafkaMetric metric) {
    metricRemoval(metric);
    if (!(metric.metricValue() instanceof Number)) {
      return;
    }
    MetricName n = metric.metricName();
    Tags tags = Tags.empty();
    for (Map.Entry<String, String> t : n.tags().entrySet()) {
      tags = tags.and(t.getKey(), t.getValue());
    }
    Meter meter;
    try {
      meter =
          Gauge.builder(
                  "kafka." + n.group().replace('-', '.') + "." + n.name().replace('-', '.'),
                  metric,
                  m -> m.metricValue() instanceof Number v ? v.doubleValue() : Double.NaN)
              .description(n.description())
              .tags(tags)
              .register(registry);
    } catch (IllegalArgumentException e) {
      // Prometheus wants one set of tag keys per name; a Kafka metric that differs is skipped
      // rather than breaking the component that registers it.
      LOG.debug("Kafka metric {} not exported: {}", n, e.getMessage());
      return;
    }
    meters.put(n, meter);
  }

  @Override
  public void metricRemoval(KafkaMetric metric) {
    Meter old = meters.remove(metric.metricName());
    if (old != null) {
      registry.remove(old);
    }
  }

  @Override
  public void close() {
    meters.values().forEach(registry::remove);
    meters.clear();
  }

  @Override
  public void configure(Map<String, ?> configs) {}
}
