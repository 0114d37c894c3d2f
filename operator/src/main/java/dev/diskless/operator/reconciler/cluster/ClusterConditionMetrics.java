package dev.diskless.operator.reconciler.cluster;

import io.fabric8.kubernetes.api.model.Condition;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each cluster's status conditions on the operator's /q/metrics, as {@code
 * diskless_operator_cluster_condition{namespace, cluster, condition}}: 1 while the condition is
 * True, 0 while False (NaN for Unknown), so that Prometheus can alert on Degraded as {@code kubectl
 * describe} shows it. Updated with the status each reconcile writes or keeps; a deleted cluster's
 * series are removed, so none goes stale.
 */
@Singleton
public class ClusterConditionMetrics {

  static final String NAME = "diskless.operator.cluster.condition";

  private final MeterRegistry registry;

  /** Per cluster, each condition's current value, read by its gauge. */
  private final Map<ResourceID, Map<String, Double>> clusters = new ConcurrentHashMap<>();

  @Inject
  public ClusterConditionMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The cluster's conditions now: their gauges follow, and gauges of conditions gone go. */
  public void observed(ResourceID id, List<Condition> conditions) {
    if (conditions == null) {
      return;
    }
    Map<String, Double> values = clusters.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
    Set<String> seen = new HashSet<>();
    for (Condition c : conditions) {
      String type = c.getType();
      seen.add(type);
      // Registered once, when the condition first appears (registering again only logs a warning).
      if (values.put(type, value(c.getStatus())) == null) {
        Gauge.builder(NAME, values, v -> v.getOrDefault(type, Double.NaN))
            .description(
                "A DisklessKafkaCluster's status condition: 1 when True, 0 when False (Ready,"
                    + " Reconciling, Degraded, BucketReady, MetadataReady, WalReady)")
            .tags(tags(id, type))
            .strongReference(true)
            .register(registry);
      }
    }
    for (String type : Set.copyOf(values.keySet())) {
      if (!seen.contains(type)) {
        values.remove(type);
        registry.find(NAME).tags(tags(id, type)).meters().forEach(registry::remove);
      }
    }
  }

  /** The cluster is gone: its series go too. */
  public void forget(ResourceID id) {
    Map<String, Double> values = clusters.remove(id);
    if (values != null) {
      for (String type : values.keySet()) {
        registry.find(NAME).tags(tags(id, type)).meters().forEach(registry::remove);
      }
    }
  }

  private static double value(String status) {
    return switch (String.valueOf(status)) {
      case "True" -> 1;
      case "False" -> 0;
      default -> Double.NaN;
    };
  }

  private static Tags tags(ResourceID id, String type) {
    return Tags.of(
        "namespace", id.getNamespace().orElse(""), "cluster", id.getName(), "condition", type);
  }
}
