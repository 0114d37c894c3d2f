package dev.diskless.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CrashPointsTest {

  @Test
  void unsetMeansNothingIsArmedAndReachingAPointDoesNothing() {
    CrashPoints none = CrashPoints.fromEnvironment(Map.of());
    assertThat(none.armed()).isEmpty();
    none.reach(CrashPoints.KEY_COMPACTION_BEFORE_SWAP);
    assertThat(CrashPoints.fromEnvironment(Map.of(CrashPoints.ENV, " ")).armed()).isEmpty();
  }

  @Test
  void aPointIsArmedForItsFirstOrNthTimeAndOthersAreIgnored() {
    assertThat(CrashPoints.fromEnvironment(Map.of(CrashPoints.ENV, "a.b")).armed())
        .hasValue("a.b:1");
    CrashPoints third = CrashPoints.fromEnvironment(Map.of(CrashPoints.ENV, "a.b:3"));
    assertThat(third.armed()).hasValue("a.b:3");
    // Another point, and the armed one before its time, return.
    third.reach("other");
    third.reach("a.b");
    third.reach("a.b");
  }

  @Test
  void aBadCountIsNamed() {
    assertThatThrownBy(() -> CrashPoints.fromEnvironment(Map.of(CrashPoints.ENV, "a.b:0")))
        .hasMessageContaining(CrashPoints.ENV)
        .hasMessageContaining("a.b:0");
    assertThatThrownBy(() -> CrashPoints.fromEnvironment(Map.of(CrashPoints.ENV, "a.b:x")))
        .hasMessageContaining("NAME:N");
  }
}
