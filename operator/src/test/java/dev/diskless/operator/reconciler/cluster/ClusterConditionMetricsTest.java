package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The condition gauges follow the status, and a forgotten cluster leaves no series behind. */
class ClusterConditionMetricsTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ClusterConditionMetrics metrics = new ClusterConditionMetrics(registry);
  private final ResourceID orders = new ResourceID("orders", "team-a");
  private final ResourceID other = new ResourceID("orders", "team-b");

  private static Condition condition(String type, String status) {
    return new ConditionBuilder().withType(type).withStatus(status).build();
  }

  private double value(ResourceID id, String type) {
    Gauge g =
        registry
            .find(ClusterConditionMetrics.NAME)
            .tags("namespace", id.getNamespace().get(), "cluster", id.getName(), "condition", type)
            .gauge();
    assertThat(g).as(type + " of " + id).isNotNull();
    return g.value();
  }

  @Test
  void oneWhileTrueZeroWhileFalse() {
    metrics.observed(orders, List.of(condition("Ready", "True"), condition("Degraded", "False")));
    assertThat(value(orders, "Ready")).isEqualTo(1);
    assertThat(value(orders, "Degraded")).isZero();

    metrics.observed(orders, List.of(condition("Ready", "False"), condition("Degraded", "True")));
    assertThat(value(orders, "Ready")).isZero();
    assertThat(value(orders, "Degraded")).isEqualTo(1);

    metrics.observed(orders, List.of(condition("Ready", "Unknown")));
    assertThat(value(orders, "Ready")).isNaN();
    assertThat(registry.find(ClusterConditionMetrics.NAME).tags("condition", "Degraded").gauge())
        .as("a condition no longer in the status")
        .isNull();
  }

  @Test
  void aForgottenClusterLeavesNoSeriesAndOthersKeepTheirs() {
    metrics.observed(orders, List.of(condition("Degraded", "True")));
    metrics.observed(other, List.of(condition("Degraded", "False")));
    metrics.forget(orders);
    assertThat(registry.find(ClusterConditionMetrics.NAME).tags("namespace", "team-a").meters())
        .isEmpty();
    assertThat(value(other, "Degraded")).isZero();

    // Created again under the same name: its gauges read the new status.
    metrics.observed(orders, List.of(condition("Degraded", "False")));
    assertThat(value(orders, "Degraded")).isZero();
  }
}
