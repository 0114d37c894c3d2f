package dev.diskless.operator.reconciler.cluster.autoscaling;

import dev.diskless.operator.crd.AutoscalingSpec;
import java.time.Duration;

/**
 * The bounds, target and windows of one cluster's autoscaler, as the decision core reads them.
 *
 * @param minBrokers fewest brokers
 * @param maxBrokers most brokers
 * @param targetPercent average CPU use aimed for, in percent of the pods' CPU request
 * @param upWindow how long every recommendation must ask for more before a scale-out
 * @param downWindow how long every recommendation must ask for fewer before a scale-in
 * @param maxUpStep most brokers one scale-out adds
 */
public record ScalingPolicy(
    int minBrokers,
    int maxBrokers,
    int targetPercent,
    Duration upWindow,
    Duration downWindow,
    int maxUpStep) {

  /** With the default largest scale-out step. */
  public ScalingPolicy(
      int minBrokers, int maxBrokers, int targetPercent, Duration upWindow, Duration downWindow) {
    this(
        minBrokers,
        maxBrokers,
        targetPercent,
        upWindow,
        downWindow,
        AutoscalingSpec.ScaleUpSpec.DEFAULT_MAX_BROKERS_PER_STEP);
  }

  public ScalingPolicy {
    if (maxUpStep < 1) {
      throw new IllegalArgumentException("the largest scale-out step must be positive");
    }
    if (minBrokers < 1 || maxBrokers < minBrokers || targetPercent < 1) {
      throw new IllegalArgumentException(
          "need 1 <= minBrokers <= maxBrokers and a positive target, got "
              + minBrokers
              + ".."
              + maxBrokers
              + " at "
              + targetPercent
              + "%");
    }
  }

  /** The policy of an enabled spec (the API server has checked the bounds). */
  public static ScalingPolicy of(AutoscalingSpec spec) {
    return new ScalingPolicy(
        spec.minBrokers,
        spec.maxBrokers,
        spec.targetCpuUtilization,
        Duration.ofSeconds(spec.scaleUp.stabilizationWindowSeconds),
        Duration.ofSeconds(spec.scaleDown.stabilizationWindowSeconds),
        spec.scaleUp.maxBrokersPerStep);
  }

  /** The count within the bounds. */
  public int clamp(int brokers) {
    return Math.max(minBrokers, Math.min(maxBrokers, brokers));
  }

  /** The longer of the two windows: how much recommendation history is worth keeping. */
  public Duration longestWindow() {
    return upWindow.compareTo(downWindow) >= 0 ? upWindow : downWindow;
  }
}
