package dev.diskless.operator.reconciler.cluster.autoscaling;

import dev.diskless.operator.reconciler.cluster.BrokerMetricsEndpoint;
import java.util.OptionalDouble;

/**
 * Reads a broker's process CPU time from its Prometheus exposition: Micrometer's {@code
 * ProcessorMetrics}, which the broker binds, exports {@code process.cpu.time} (nanoseconds) as the
 * counter {@code process_cpu_time_ns_total}. A monotonic counter, not the {@code process_cpu_usage}
 * gauge, so that the operator computes the rate over its own window and misses nothing between two
 * samples.
 */
public final class BrokerCpu {

  public static final String METRIC = "process_cpu_time_ns_total";

  private BrokerCpu() {}

  /** CPU seconds the broker process has used since it started; empty when not exported. */
  public static OptionalDouble seconds(String exposition) {
    OptionalDouble ns = BrokerMetricsEndpoint.sum(exposition, METRIC);
    return ns.isPresent() ? OptionalDouble.of(ns.getAsDouble() / 1e9) : OptionalDouble.empty();
  }
}
