package dev.diskless.operator.reconciler.cluster.autoscaling;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The autoscaler's inputs and outputs per cluster on the operator's /q/metrics: measured CPU
 * utilization (the one acted on, and each source's own: the brokers' /metrics and metrics.k8s.io,
 * so that they can be compared), brokers measured, target, desired brokers, and scale decisions by
 * direction; and whether metrics.k8s.io was found served.
 */
final class AutoscalerMetrics {

  private static final String SOURCE_DESCRIPTION =
      "Brokers' average CPU use as one source alone reads it (broker: their /metrics;"
          + " pod-metrics: metrics.k8s.io), percent of the CPU request";

  private final MeterRegistry registry;
  private final Map<ResourceID, List<Meter>> meters = new ConcurrentHashMap<>();

  AutoscalerMetrics(MeterRegistry registry, PodMetricsApi podMetrics) {
    this.registry = registry;
    Gauge.builder(
            "diskless.operator.autoscaling.metrics.api.served",
            podMetrics,
            p -> p.lastKnownServed() ? 1 : 0)
        .description("1 when the API server serves metrics.k8s.io (checked by API discovery)")
        .register(registry);
  }

  void register(ResourceID id, ClusterAutoscaler.Tracked t) {
    Tags tags = tags(id);
    List<Meter> list = new ArrayList<>();
    list.add(
        Gauge.builder(
                "diskless.operator.autoscaling.cpu.utilization",
                t,
                x -> x.cpu.load().map(CpuLoad::utilizationPercent).orElse(Double.NaN))
            .description("Brokers' average CPU use over the window, percent of the CPU request")
            .tags(tags)
            .register(registry));
    list.add(
        Gauge.builder(
                "diskless.operator.autoscaling.measured.brokers",
                t,
                x -> x.cpu.load().map(CpuLoad::brokers).orElse(0))
            .description("Brokers with a CPU rate over the window")
            .tags(tags)
            .register(registry));
    list.add(
        Gauge.builder(
                "diskless.operator.autoscaling.source.cpu.utilization",
                t,
                x -> x.cpu.fromBrokers().map(CpuLoad::utilizationPercent).orElse(Double.NaN))
            .description(SOURCE_DESCRIPTION)
            .tags(tags.and("source", "broker"))
            .register(registry));
    list.add(
        Gauge.builder(
                "diskless.operator.autoscaling.source.cpu.utilization",
                t,
                x -> x.cpu.fromPodMetrics().map(CpuLoad::utilizationPercent).orElse(Double.NaN))
            .description(SOURCE_DESCRIPTION)
            .tags(tags.and("source", "pod-metrics"))
            .register(registry));
    list.add(
        Gauge.builder(
                "diskless.operator.autoscaling.target.cpu.utilization",
                t,
                x -> x.cluster.getSpec().autoscaling.targetCpuUtilization)
            .description("Target CPU use, percent of the CPU request")
            .tags(tags)
            .register(registry));
    list.add(
        Gauge.builder("diskless.operator.autoscaling.desired.brokers", t, x -> x.desired)
            .description("Brokers the autoscaler wants")
            .tags(tags)
            .register(registry));
    for (ScaleDirection d : List.of(ScaleDirection.UP, ScaleDirection.DOWN)) {
      list.add(counter(tags, d));
    }
    meters.put(id, list);
  }

  void scaled(ResourceID id, ScaleDirection direction) {
    counter(tags(id), direction).increment();
  }

  void remove(ResourceID id) {
    List<Meter> list = meters.remove(id);
    if (list != null) {
      list.forEach(registry::remove);
    }
  }

  private Counter counter(Tags tags, ScaleDirection d) {
    return Counter.builder("diskless.operator.autoscaling.scale.decisions")
        .description("Changes of the broker count decided by the autoscaler")
        .tags(tags.and("direction", d.label()))
        .register(registry);
  }

  private static Tags tags(ResourceID id) {
    return Tags.of("namespace", id.getNamespace().orElse(""), "cluster", id.getName());
  }
}
