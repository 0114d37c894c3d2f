package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * What the autoscaler measured and decided. Its broker count lives here rather than in the spec, so
 * that a GitOps tool reverting the spec does not fight the autoscaler.
 */
public class AutoscalingStatus {

  @JsonPropertyDescription(
      "Average CPU use of the brokers over the sampling window, in percent of their CPU request;"
          + " absent until two samples of a broker were taken.")
  public Integer currentCpuUtilization;

  @JsonPropertyDescription(
      "Where the utilization was read: Broker (each broker's own /metrics), PodMetrics"
          + " (metrics.k8s.io, for brokers whose /metrics could not be read) or Broker+PodMetrics.")
  public String cpuSource;

  @JsonPropertyDescription(
      "Brokers the autoscaler wants; the broker Deployments run this many together.")
  public Integer desiredBrokers;

  @JsonPropertyDescription("When the autoscaler last changed the broker count (RFC 3339).")
  public String lastScaleTime;

  @JsonPropertyDescription("Up or Down: the direction of the last change of the broker count.")
  public String lastScaleDirection;

  @JsonPropertyDescription("Why the autoscaler last changed the broker count.")
  public String lastScaleReason;

  @Override
  public boolean equals(Object o) {
    return o instanceof AutoscalingStatus a
        && Objects.equals(currentCpuUtilization, a.currentCpuUtilization)
        && Objects.equals(cpuSource, a.cpuSource)
        && Objects.equals(desiredBrokers, a.desiredBrokers)
        && Objects.equals(lastScaleTime, a.lastScaleTime)
        && Objects.equals(lastScaleDirection, a.lastScaleDirection)
        && Objects.equals(lastScaleReason, a.lastScaleReason);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        currentCpuUtilization,
        cpuSource,
        desiredBrokers,
        lastScaleTime,
        lastScaleDirection,
        lastScaleReason);
  }
}
