package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Operator-driven autoscaling on CPU: the operator samples each broker's process CPU time, compares
 * it with the pods' CPU request and keeps the broker count between the bounds. Its count lives in
 * the status, never in the spec, so GitOps tools see no drift.
 */
@ValidationRule(
    value = "!self.enabled || (has(self.minBrokers) && has(self.maxBrokers))",
    message =
        "autoscaling.minBrokers and autoscaling.maxBrokers are required when autoscaling.enabled"
            + " is true")
@ValidationRule(
    value = "!has(self.minBrokers) || !has(self.maxBrokers) || self.minBrokers <= self.maxBrokers",
    message = "autoscaling.minBrokers must not exceed autoscaling.maxBrokers")
public class AutoscalingSpec {

  @Default("false")
  @JsonPropertyDescription(
      "Whether the operator sets the broker count from CPU; brokers.replicas is then only the"
          + " starting count.")
  public boolean enabled;

  @Min(1)
  @Max(1000)
  @JsonPropertyDescription("Fewest brokers the autoscaler keeps; required when enabled.")
  public Integer minBrokers;

  @Min(1)
  @Max(1000)
  @JsonPropertyDescription("Most brokers the autoscaler runs; required when enabled.")
  public Integer maxBrokers;

  @Min(1)
  @Max(100)
  @Default("60")
  @JsonPropertyDescription(
      "Average CPU use the autoscaler aims for, in percent of each broker pod's CPU request.")
  public int targetCpuUtilization = 60;

  @Default("{}")
  @JsonPropertyDescription(
      "Scaling out: after load stayed above target for the window, the largest step it asks for.")
  public ScaleUpSpec scaleUp = new ScaleUpSpec();

  @Default("{}")
  @JsonPropertyDescription(
      "Scaling in: after load stayed below target for the window, one broker per step.")
  public ScaleDownSpec scaleDown = new ScaleDownSpec();

  /** How long load must stay high before brokers are added, and how many at most at once. */
  public static class ScaleUpSpec {

    /** Default largest scale-out step, as the HPA's default policy adds at most 4 pods per step. */
    public static final int DEFAULT_MAX_BROKERS_PER_STEP = 4;

    @Min(1)
    @Max(1000)
    @Default("4")
    @JsonPropertyDescription(
        "Most brokers one scale-out adds (default 4); a larger need is met in several steps, one"
            + " per scale-up window. With zones, whatever the count, the split over zones stays"
            + " even.")
    public int maxBrokersPerStep = DEFAULT_MAX_BROKERS_PER_STEP;

    @Min(0)
    @Max(3600)
    @Default("60")
    @JsonPropertyDescription(
        "Seconds every recommendation must have asked for more brokers before a scale-out, and"
            + " the least time after a scale-in before a scale-out.")
    public int stabilizationWindowSeconds = 60;
  }

  /** How long load must stay low before a broker is removed. */
  public static class ScaleDownSpec {
    @Min(0)
    @Max(86400)
    @Default("600")
    @JsonPropertyDescription(
        "Seconds every recommendation must have asked for fewer brokers before a scale-in (one"
            + " broker per step), and the least time after a scale-out before a scale-in.")
    public int stabilizationWindowSeconds = 600;
  }
}
