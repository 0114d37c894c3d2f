package dev.diskless.operator.reconciler.cluster.autoscaling;

/**
 * Where the utilization the autoscaler acted on was read: each broker's own /metrics (its process
 * CPU-time counter), metrics.k8s.io's PodMetrics (for brokers whose /metrics could not be read in
 * the round), or both.
 */
public enum CpuSource {
  BROKER("Broker"),
  POD_METRICS("PodMetrics"),
  BOTH("Broker+PodMetrics");

  private final String label;

  CpuSource(String label) {
    this.label = label;
  }

  /** As written in the status. */
  public String label() {
    return label;
  }
}
