package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ScaleDeciderTest {

  /** A clock the test moves by hand. */
  private static final class SteppedClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static final Duration SAMPLE = Duration.ofSeconds(15);
  private static final ScalingPolicy POLICY =
      new ScalingPolicy(3, 6, 60, Duration.ofSeconds(60), Duration.ofMinutes(10));

  private final SteppedClock clock = new SteppedClock();
  private final ScaleDecider decider = new ScaleDecider(clock);
  private final RecommendationHistory history = new RecommendationHistory();
  private int brokers = 3;
  private boolean movesPending;
  private Optional<LastScale> last = Optional.empty();

  /** One sampling round at the given average utilization over all current brokers. */
  private ScaleDecision sample(double utilization) {
    ScaleDecision d =
        decider.decide(
            new ScaleDecider.Inputs(
                POLICY,
                brokers,
                Optional.of(new CpuLoad(brokers, utilization)),
                movesPending,
                last),
            history);
    if (d.scales()) {
      brokers = d.desiredBrokers();
      last = Optional.of(new LastScale(clock.instant(), d.direction()));
    }
    return d;
  }

  /** Rounds every 15 s for {@code d}, load given as total cores-in-percent (conserved). */
  private List<ScaleDecision> run(Duration d, double totalPercent) {
    List<ScaleDecision> out = new ArrayList<>();
    for (Duration t = Duration.ZERO; t.compareTo(d) < 0; t = t.plus(SAMPLE)) {
      out.add(sample(totalPercent / brokers));
      clock.advance(SAMPLE);
    }
    return out;
  }

  @Test
  void aLoadNearTheTargetHolds() {
    assertThat(run(Duration.ofMinutes(20), 3 * 60.0)).noneMatch(ScaleDecision::scales);
    assertThat(brokers).isEqualTo(3);
  }

  @Test
  void theRecommendationIsCeilOfBrokersTimesUtilizationOverTarget() {
    assertThat(new CpuLoad(3, 100).brokersFor(60)).isEqualTo(5); // 3 x 100 / 60 = 5
    assertThat(new CpuLoad(3, 101).brokersFor(60)).isEqualTo(6); // 5.05 -> 6
    assertThat(new CpuLoad(3, 60).brokersFor(60)).isEqualTo(3);
    assertThat(new CpuLoad(4, 10).brokersFor(60)).isEqualTo(1);
  }

  @Test
  void highLoadScalesOutInOneStepOnlyAfterTheWholeUpWindow() {
    ScaleDecision first = sample(100); // wants 5
    assertThat(first.scales()).isFalse();
    assertThat(first.reason()).contains("above target for less than 60 s");
    clock.advance(Duration.ofSeconds(59));
    assertThat(sample(100).scales()).isFalse();
    clock.advance(Duration.ofSeconds(1));
    ScaleDecision out = sample(100);
    assertThat(out.direction()).isEqualTo(ScaleDirection.UP);
    assertThat(out.desiredBrokers()).isEqualTo(5);
    assertThat(out.reason()).contains("CPU 100% of request on 3 brokers, target 60%", "3 -> 5");
  }

  @Test
  void aShortSpikeInsideTheUpWindowDoesNotScale() {
    run(Duration.ofMinutes(2), 3 * 50.0);
    sample(150);
    clock.advance(SAMPLE);
    // The spike is over before the window: the smallest recommendation of the window is 3.
    assertThat(run(Duration.ofMinutes(2), 3 * 50.0)).noneMatch(ScaleDecision::scales);
  }

  @Test
  void theStepOutIsTheSmallestRecommendationOfTheWindow() {
    sample(100); // 5
    clock.advance(Duration.ofSeconds(30));
    sample(200); // 10, clamped to 6
    clock.advance(Duration.ofSeconds(30));
    ScaleDecision d = sample(200);
    assertThat(d.desiredBrokers()).isEqualTo(5);
  }

  @Test
  void scaleOutNeverExceedsMaxBrokers() {
    run(Duration.ofMinutes(3), 3 * 400.0);
    assertThat(brokers).isEqualTo(6);
  }

  @Test
  void lowLoadScalesInOneBrokerPerStepOnlyAfterTheDownWindow() {
    brokers = 6;
    List<ScaleDecision> firstTen = run(Duration.ofMinutes(10), 6 * 10.0);
    assertThat(firstTen).noneMatch(ScaleDecision::scales);
    ScaleDecision step = sample(10);
    assertThat(step.direction()).isEqualTo(ScaleDirection.DOWN);
    assertThat(step.desiredBrokers()).isEqualTo(5);
    assertThat(step.reason()).contains("6 -> 5 brokers (one per step)");
    clock.advance(SAMPLE);
    // Every recommendation of the window still asks for 3: one more per round, never two.
    List<ScaleDecision> rest = run(Duration.ofMinutes(1), 6 * 10.0);
    assertThat(rest.stream().filter(ScaleDecision::scales).map(ScaleDecision::desiredBrokers))
        .containsExactly(4, 3);
    assertThat(brokers).isEqualTo(3);
  }

  @Test
  void noScaleInWhilePartitionsAreMoving() {
    brokers = 6;
    run(Duration.ofMinutes(10), 6 * 10.0);
    assertThat(sample(10).desiredBrokers()).isEqualTo(5);
    clock.advance(SAMPLE);
    // The removed broker is still handing its partitions over.
    movesPending = true;
    List<ScaleDecision> held = run(Duration.ofMinutes(5), 6 * 10.0);
    assertThat(held).noneMatch(ScaleDecision::scales);
    assertThat(held.getLast().reason()).contains("partitions are still moving");
    movesPending = false;
    assertThat(sample(6 * 10.0 / 5).desiredBrokers()).isEqualTo(4);
  }

  @Test
  void noScaleInWithinTheDownWindowOfAScaleOut() {
    run(Duration.ofSeconds(75), 3 * 100.0);
    assertThat(brokers).isEqualTo(5);
    Instant scaledOut = clock.instant();
    // The load vanishes at once: no scale-in until the scale-down window after the scale-out.
    List<ScaleDecision> after = run(Duration.ofMinutes(20), 5.0);
    Instant firstIn =
        scaledOut.plus(
            SAMPLE.multipliedBy(
                after.indexOf(
                    after.stream().filter(ScaleDecision::scales).findFirst().orElseThrow())));
    assertThat(firstIn).isAfterOrEqualTo(scaledOut.plus(Duration.ofMinutes(10)));
    assertThat(brokers).isEqualTo(3);
  }

  @Test
  void noScaleOutWithinTheUpWindowOfAScaleIn() {
    brokers = 4;
    last = Optional.of(new LastScale(clock.instant(), ScaleDirection.DOWN));
    // The window is covered with high recommendations: only the guard holds the scale-out.
    history.add(clock.instant().minus(Duration.ofMinutes(2)), 6, Duration.ofHours(1));
    // Sustained high load, but the scale-in was just now: held for the up window.
    for (int i = 0; i < 4; i++) {
      ScaleDecision d = sample(100);
      assertThat(d.scales()).isFalse();
      assertThat(d.reason()).contains("scale-out held: a scale-in less than 60 s ago");
      clock.advance(SAMPLE);
    }
    ScaleDecision d = sample(100);
    assertThat(d.direction()).isEqualTo(ScaleDirection.UP);
    assertThat(d.desiredBrokers()).isEqualTo(6);
  }

  @Test
  void theHeldReasonNamesTheDirectionGuard() {
    brokers = 4;
    last = Optional.of(new LastScale(clock.instant(), ScaleDirection.UP));
    history.add(clock.instant().minus(Duration.ofHours(1)), 3, Duration.ofHours(2));
    assertThat(sample(10).reason()).contains("scale-in held: a scale-out less than 600 s ago");
  }

  /** Direction changes of a run with the load switching between high and low every period. */
  private List<Duration> directionChangeGaps(int roundsPerHalfPeriod, List<ScaleDecision> out) {
    List<Duration> violations = new ArrayList<>();
    ScaleDecision previous = null;
    Instant previousAt = null;
    for (int i = 0; i < 480; i++) {
      double total = (i / roundsPerHalfPeriod) % 2 == 0 ? 3 * 150.0 : 3 * 5.0;
      ScaleDecision d = sample(total / brokers);
      if (d.scales()) {
        out.add(d);
        if (previous != null && previous.direction() != d.direction()) {
          Duration gap = Duration.between(previousAt, clock.instant());
          Duration window =
              d.direction() == ScaleDirection.UP ? POLICY.upWindow() : POLICY.downWindow();
          if (gap.compareTo(window) < 0) {
            violations.add(gap);
          }
        }
        previous = d;
        previousAt = clock.instant();
      }
      clock.advance(SAMPLE);
    }
    return violations;
  }

  @Test
  void aBurstShorterThanTheUpWindowNeverScales() {
    List<ScaleDecision> decisions = new ArrayList<>();
    // Far above and far below target every 45 s, for two hours.
    assertThat(directionChangeGaps(3, decisions)).isEmpty();
    assertThat(decisions).isEmpty();
  }

  @Test
  void aSlowlyFlappingLoadNeverChangesDirectionInsideAWindow() {
    List<ScaleDecision> decisions = new ArrayList<>();
    // High for 15 minutes, low for 15 minutes, for two hours: it scales both ways, never faster
    // than the windows allow.
    assertThat(directionChangeGaps(60, decisions)).isEmpty();
    assertThat(decisions)
        .extracting(ScaleDecision::direction)
        .contains(ScaleDirection.UP, ScaleDirection.DOWN);
  }

  @Test
  void noSamplesHoldsTheCount() {
    ScaleDecision d =
        decider.decide(
            new ScaleDecider.Inputs(POLICY, 4, Optional.empty(), false, Optional.empty()), history);
    assertThat(d.scales()).isFalse();
    assertThat(d.desiredBrokers()).isEqualTo(4);
    assertThat(d.reason()).isEqualTo("no CPU samples yet");
  }

  @Test
  void boundsApplyAtOnceUpAndOneBrokerAtATimeDown() {
    ScaleDecision up =
        decider.decide(
            new ScaleDecider.Inputs(POLICY, 1, Optional.empty(), false, Optional.empty()), history);
    assertThat(up.desiredBrokers()).isEqualTo(3);
    assertThat(up.direction()).isEqualTo(ScaleDirection.UP);
    assertThat(up.reason()).isEqualTo("1 brokers is below minBrokers 3");
    ScaleDecision down =
        decider.decide(
            new ScaleDecider.Inputs(POLICY, 9, Optional.empty(), false, Optional.empty()), history);
    assertThat(down.desiredBrokers()).isEqualTo(8);
    ScaleDecision held =
        decider.decide(
            new ScaleDecider.Inputs(POLICY, 9, Optional.empty(), true, Optional.empty()), history);
    assertThat(held.scales()).isFalse();
  }

  @Test
  void aLargeNeedIsMetInStepsOfAtMostMaxUpStepOnePerWindow() {
    ScalingPolicy stepped =
        new ScalingPolicy(3, 20, 60, Duration.ofSeconds(60), Duration.ofMinutes(10), 2);
    List<ScaleDecision> ups = new ArrayList<>();
    List<Instant> at = new ArrayList<>();
    // 600 % of one request in total, conserved: 10 brokers at the target.
    for (Duration t = Duration.ZERO; t.compareTo(Duration.ofMinutes(5)) < 0; t = t.plus(SAMPLE)) {
      ScaleDecision d =
          decider.decide(
              new ScaleDecider.Inputs(
                  stepped,
                  brokers,
                  Optional.of(new CpuLoad(brokers, 600.0 / brokers)),
                  false,
                  last),
              history);
      if (d.scales()) {
        ups.add(d);
        at.add(clock.instant());
        brokers = d.desiredBrokers();
        last = Optional.of(new LastScale(clock.instant(), d.direction()));
      } else if (!ups.isEmpty() && brokers < 10) {
        assertThat(d.reason()).contains("next scale-out step held: the last one less than 60 s");
      }
      clock.advance(SAMPLE);
    }
    assertThat(ups).extracting(ScaleDecision::desiredBrokers).containsExactly(5, 7, 9, 10);
    assertThat(ups.getFirst().reason()).endsWith("3 -> 5 brokers (at most 2 per step)");
    assertThat(ups.getLast().reason()).endsWith("9 -> 10 brokers");
    for (int i = 1; i < at.size(); i++) {
      assertThat(Duration.between(at.get(i - 1), at.get(i)))
          .isGreaterThanOrEqualTo(Duration.ofSeconds(60));
    }
  }

  @Test
  void theDefaultStepIsFourBrokers() {
    ScalingPolicy eager = new ScalingPolicy(1, 100, 50, Duration.ZERO, Duration.ZERO);
    assertThat(eager.maxUpStep()).isEqualTo(4);
    ScaleDecision d =
        decider.decide(
            new ScaleDecider.Inputs(
                eager, 2, Optional.of(new CpuLoad(2, 1000)), false, Optional.empty()),
            history);
    assertThat(d.desiredBrokers()).isEqualTo(6);
  }

  @Test
  void zeroWindowsActOnTheFirstSample() {
    ScalingPolicy eager = new ScalingPolicy(1, 10, 50, Duration.ZERO, Duration.ZERO);
    ScaleDecision d =
        decider.decide(
            new ScaleDecider.Inputs(
                eager, 2, Optional.of(new CpuLoad(2, 100)), false, Optional.empty()),
            history);
    assertThat(d.desiredBrokers()).isEqualTo(4);
  }

  @Test
  void theHistoryMustCoverTheWindowAfterARestart() {
    // A fresh operator has seen nothing: even sustained low load waits a whole window.
    brokers = 6;
    ScaleDecision d = sample(10);
    assertThat(d.scales()).isFalse();
    assertThat(d.reason()).contains("below target for less than 600 s");
  }
}
