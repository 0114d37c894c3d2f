package dev.diskless.operator.reconciler.cluster.autoscaling;

/**
 * The brokers' CPU use over the sampling window: how many brokers were measured and their average
 * use in percent of the pod CPU request. Load is conserved across brokers, so the number measured
 * (not the number running) is what the recommendation multiplies: a broker that has just started
 * and has no rate yet must not count as an idle one.
 *
 * @param brokers brokers with a CPU rate over the window
 * @param utilizationPercent their average CPU use, in percent of one pod's CPU request
 */
public record CpuLoad(int brokers, double utilizationPercent) {

  public CpuLoad {
    if (brokers < 1 || utilizationPercent < 0 || Double.isNaN(utilizationPercent)) {
      throw new IllegalArgumentException(
          "a load needs measured brokers and a utilization, got "
              + brokers
              + " at "
              + utilizationPercent);
    }
  }

  /** Brokers needed to bring the average to the target: ceil(brokers x utilization / target). */
  public int brokersFor(int targetPercent) {
    // A hair of tolerance so that 3 brokers at exactly the target do not become 4 by rounding.
    return (int) Math.ceil(brokers * utilizationPercent / targetPercent - 1e-9);
  }
}
