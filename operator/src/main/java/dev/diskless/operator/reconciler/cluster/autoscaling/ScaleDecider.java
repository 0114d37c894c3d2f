package dev.diskless.operator.reconciler.cluster.autoscaling;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The autoscaler's decision, pure logic: from the brokers' CPU load, the current count and what the
 * last scale was, the count to run and why. Each call records a recommendation, ceil(measured
 * brokers x utilization / target) within the bounds; a scale-out takes the smallest recommendation
 * of the scale-up window, at most maxUpStep brokers at once and one step per window, once load was
 * high for all of it; a scale-in removes one broker, once every recommendation of the scale-down
 * window asked for fewer, and never while partitions are still moving. No direction change inside
 * the new direction's window (no flapping). Bounds changed in the spec apply at once upward, one
 * broker at a time downward.
 */
public final class ScaleDecider {

  /** Everything a decision depends on besides the time and the recommendation history. */
  public record Inputs(
      ScalingPolicy policy,
      int currentBrokers,
      Optional<CpuLoad> load,
      boolean movesPending,
      Optional<LastScale> lastScale) {}

  private final Clock clock;

  public ScaleDecider(Clock clock) {
    this.clock = clock;
  }

  /** Decides, and records this moment's recommendation in {@code history}. */
  public ScaleDecision decide(Inputs in, RecommendationHistory history) {
    Instant now = clock.instant();
    ScalingPolicy p = in.policy();
    int current = in.currentBrokers();
    if (current < p.minBrokers()) {
      return new ScaleDecision(
          p.minBrokers(),
          ScaleDirection.UP,
          current + " brokers is below minBrokers " + p.minBrokers());
    }
    if (current > p.maxBrokers()) {
      if (in.movesPending()) {
        return hold(
            current, "above maxBrokers " + p.maxBrokers() + ", waiting for partition moves");
      }
      return new ScaleDecision(
          current - 1,
          ScaleDirection.DOWN,
          current + " brokers is above maxBrokers " + p.maxBrokers() + ": one broker less");
    }
    if (in.load().isEmpty()) {
      return hold(current, "no CPU samples yet");
    }
    CpuLoad load = in.load().get();
    int recommended = p.clamp(load.brokersFor(p.targetPercent()));
    history.add(now, recommended, p.longestWindow());
    String measured =
        String.format(
            "CPU %.0f%% of request on %d brokers, target %d%%",
            load.utilizationPercent(), load.brokers(), p.targetPercent());

    if (recommended > current) {
      return up(in, history, now, measured);
    }
    if (recommended < current) {
      return down(in, history, now, measured);
    }
    return hold(current, measured + ": " + current + " brokers is right");
  }

  private static ScaleDecision up(
      Inputs in, RecommendationHistory history, Instant now, String measured) {
    Duration window = in.policy().upWindow();
    int current = in.currentBrokers();
    if (lastScaledWithin(in.lastScale(), ScaleDirection.DOWN, now, window)) {
      return hold(
          current, measured + "; scale-out held: a scale-in less than " + secs(window) + " ago");
    }
    // One step per window: the brokers just added take load first, so that the next step is
    // decided on what they changed, not on what the previous step already answered.
    if (lastScaledWithin(in.lastScale(), ScaleDirection.UP, now, window)) {
      return hold(
          current, measured + "; next scale-out step held: the last one less than " + secs(window));
    }
    OptionalInt lowest = history.lowest(now, window);
    if (!history.covers(now, window) || lowest.isEmpty() || lowest.getAsInt() <= current) {
      return hold(current, measured + "; above target for less than " + secs(window));
    }
    int step = in.policy().maxUpStep();
    int to = Math.min(lowest.getAsInt(), current + step);
    return new ScaleDecision(
        to,
        ScaleDirection.UP,
        measured
            + " for "
            + secs(window)
            + ": "
            + current
            + " -> "
            + to
            + " brokers"
            + (to < lowest.getAsInt() ? " (at most " + step + " per step)" : ""));
  }

  private static ScaleDecision down(
      Inputs in, RecommendationHistory history, Instant now, String measured) {
    Duration window = in.policy().downWindow();
    int current = in.currentBrokers();
    if (in.movesPending()) {
      return hold(current, measured + "; scale-in held: partitions are still moving");
    }
    if (lastScaledWithin(in.lastScale(), ScaleDirection.UP, now, window)) {
      return hold(
          current, measured + "; scale-in held: a scale-out less than " + secs(window) + " ago");
    }
    OptionalInt highest = history.highest(now, window);
    if (!history.covers(now, window) || highest.isEmpty() || highest.getAsInt() >= current) {
      return hold(current, measured + "; below target for less than " + secs(window));
    }
    return new ScaleDecision(
        current - 1,
        ScaleDirection.DOWN,
        measured
            + " for "
            + secs(window)
            + ": "
            + current
            + " -> "
            + (current - 1)
            + " brokers (one per step)");
  }

  /** Whether the last change went in {@code direction} less than {@code window} ago. */
  private static boolean lastScaledWithin(
      Optional<LastScale> last, ScaleDirection direction, Instant now, Duration window) {
    return last.isPresent()
        && last.get().direction() == direction
        && now.isBefore(last.get().at().plus(window));
  }

  private static ScaleDecision hold(int current, String reason) {
    return new ScaleDecision(current, ScaleDirection.NONE, reason);
  }

  private static String secs(Duration d) {
    return d.toSeconds() + " s";
  }
}
