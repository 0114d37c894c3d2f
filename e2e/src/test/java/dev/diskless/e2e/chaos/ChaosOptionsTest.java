package dev.diskless.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.e2e.chaos.Chaos.Options;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The harness's command line: what it runs and the line that replays it. */
class ChaosOptionsTest {

  @Test
  void repeatedRunsReplayWithTheSameRoundsAndSeed() {
    Options o =
        Chaos.parse(
            new String[] {
              "--faults",
              "kill-one,s3-errors",
              "--seconds-per-fault",
              "300",
              "--seed",
              "5",
              "--repeat",
              "10"
            });
    assertThat(o.rounds()).isEqualTo(10);
    assertThat(o.perFault()).isEqualTo(Duration.ofSeconds(300));
    assertThat(o.faults()).containsExactly(FaultClass.KILL_ONE, FaultClass.S3_ERRORS);
    assertThat(o.replay())
        .startsWith(
            "e2e/chaos.sh --faults kill-one,s3-errors --seconds-per-fault 300 --seed 5 --repeat 10 ");
    assertThat(Chaos.parse(o.replay().substring("e2e/chaos.sh ".length()).split(" "))).isEqualTo(o);
  }

  @Test
  void oneRoundIsTheDefaultAndLeavesNoRepeatInTheReplay() {
    Options o = Chaos.parse(new String[] {"--faults", "kill-one", "--seed", "5"});
    assertThat(o.rounds()).isEqualTo(1);
    assertThat(o.replay()).doesNotContain("--repeat");
  }

  @Test
  void aRoundCountBelowOneIsRefusedByName() {
    assertThatThrownBy(() -> Chaos.parse(new String[] {"--repeat", "0"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--repeat");
  }
}
