package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CpuCounterWindowTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static Instant at(int seconds) {
    return T0.plusSeconds(seconds);
  }

  @Test
  void coresAreTheCounterIncreaseOverTheElapsedTime() {
    CpuCounterWindow w = new CpuCounterWindow(Duration.ofSeconds(60));
    w.record("b0", at(0), 100);
    assertThat(w.coresUsed("b0")).isEmpty();
    w.record("b0", at(15), 115); // 1 core
    w.record("b0", at(30), 145); // 2 cores
    assertThat(w.coresUsed("b0"))
        .hasValueSatisfying(c -> assertThat(c).isCloseTo(1.5, within(1e-9)));
  }

  @Test
  void theRateSpansTheWindowAndForgetsOlderReadings() {
    CpuCounterWindow w = new CpuCounterWindow(Duration.ofSeconds(60));
    w.record("b0", at(0), 0);
    w.record("b0", at(60), 240); // 4 cores for a minute
    for (int t = 75; t <= 180; t += 15) {
      w.record("b0", at(t), 240 + (t - 60) * 0.5); // then half a core
    }
    assertThat(w.coresUsed("b0"))
        .hasValueSatisfying(c -> assertThat(c).isCloseTo(0.5, within(1e-9)));
  }

  @Test
  void aCounterResetStartsTheBrokerAfresh() {
    CpuCounterWindow w = new CpuCounterWindow(Duration.ofSeconds(60));
    w.record("b0", at(0), 500);
    w.record("b0", at(15), 530);
    w.record("b0", at(30), 3); // restarted
    assertThat(w.coresUsed("b0")).isEmpty();
    w.record("b0", at(45), 18);
    assertThat(w.coresUsed("b0"))
        .hasValueSatisfying(c -> assertThat(c).isCloseTo(1.0, within(1e-9)));
  }

  @Test
  void aRepeatedReadingIsIgnored() {
    CpuCounterWindow w = new CpuCounterWindow(Duration.ofSeconds(60));
    w.record("b0", at(0), 10);
    w.record("b0", at(0), 20);
    assertThat(w.coresUsed("b0")).isEmpty();
  }

  @Test
  void theLoadAveragesTheBrokersWithARateAgainstTheRequest() {
    CpuCounterWindow w = new CpuCounterWindow(Duration.ofSeconds(60));
    w.record("b0", at(0), 0);
    w.record("b0", at(10), 10); // 1 core
    w.record("b1", at(0), 0);
    w.record("b1", at(10), 20); // 2 cores
    w.record("b2", at(10), 7); // one reading: no rate yet, not counted as idle
    CpuLoad load = w.load(2.0).orElseThrow();
    assertThat(load.brokers()).isEqualTo(2);
    assertThat(load.utilizationPercent()).isCloseTo(75.0, within(1e-9));
    assertThat(w.load(0)).isEmpty();
  }

  @Test
  void goneBrokersAreForgotten() {
    CpuCounterWindow w = new CpuCounterWindow(Duration.ofSeconds(60));
    w.record("b0", at(0), 0);
    w.record("b0", at(10), 10);
    w.retain(Set.of("b1"));
    assertThat(w.coresUsed("b0")).isEmpty();
    assertThat(w.load(1.0)).isEmpty();
  }
}
