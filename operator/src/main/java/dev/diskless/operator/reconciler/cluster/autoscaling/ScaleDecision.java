package dev.diskless.operator.reconciler.cluster.autoscaling;

/**
 * What the autoscaler decided: the broker count to run, which way that changes the current count,
 * and why (for the status, the Event and the log).
 *
 * @param desiredBrokers brokers to run
 * @param direction UP or DOWN when the count changes, NONE when it holds
 * @param reason a sentence naming the measured utilization, the target and the rule that applied
 */
public record ScaleDecision(int desiredBrokers, ScaleDirection direction, String reason) {

  /** Whether the count changes. */
  public boolean scales() {
    return direction != ScaleDirection.NONE;
  }
}
