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
 * utilization, brokers measured, target, desired brokers, and scale decisions by direction.
 */
final class AutoscalerMetrics {

  private final MeterRegistry registry;
  private final Map<ResourceID, List<Meter>> meters = new ConcurrentHashMap<>();

  AutoscalerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void register(ResourceID id, ClusterAutoscaler.Tracked t) {
    Tags tags = tags(id);
    List<Meter> list = new ArrayList<>();
    list.add(
        Gauge.builder(
                "diskless.operator.autoscaling.cpu.utilization",
                t,
                x -> x.load.map(CpuLoad::utilizationPercent).orElse(Double.NaN))
            .description("Brokers' average CPU use over the window, percent of the CPU request")
            .tags(tags)
            .register(registry));
    list.add(
        Gauge.builder(
                "diskless.operator.autoscaling.measured.brokers",
                t,
                x -> x.load.map(CpuLoad::brokers).orElse(0))
            .description("Brokers with a CPU rate over the window")
            .tags(tags)
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
