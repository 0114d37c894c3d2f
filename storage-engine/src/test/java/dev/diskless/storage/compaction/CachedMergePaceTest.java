package dev.diskless.storage.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The pace of merging while cached: twice the input while writes go on, the floor rate once they
 * stop (what the writes earned is given up), never more than the cap saved up.
 */
class CachedMergePaceTest {

  private static final long MB = 1L << 20;
  private static final long SECOND = 1_000_000_000L;
  private static final long GROUP = 64 * MB;

  @Test
  void whileWritesGoOnMergesMayTakeTwiceTheInput() {
    CachedMergePace pace = new CachedMergePace(16 * MB, 4 * GROUP, 0);
    pace.look(100 * MB, SECOND);
    for (int i = 0; i < 3; i++) {
      assertThat(pace.allows()).as("group %d", i).isTrue();
      pace.spend(GROUP);
    }
    assertThat(pace.allows()).as("200 MB allowed, 192 MB taken").isTrue();
    pace.spend(GROUP);
    assertThat(pace.allows()).isFalse();

    pace.look(140 * MB, 2 * SECOND);
    assertThat(pace.allows()).as("40 MB more written: 80 MB more allowed").isTrue();
  }

  @Test
  void onceWritesStopTheBacklogIsMergedAtTheFloorRate() {
    CachedMergePace pace = new CachedMergePace(16 * MB, 4 * GROUP, 0);
    pace.look(64 * MB, SECOND);
    for (int i = 0; i < 2; i++) {
      assertThat(pace.allows()).isTrue();
      pace.spend(GROUP);
    }
    assertThat(pace.allows()).isFalse();

    // Nothing written since: a second of the floor allows a group, which overdraws by 48 MiB;
    // the next is allowed four seconds later.
    pace.look(64 * MB, 2 * SECOND);
    assertThat(pace.allows()).isTrue();
    pace.spend(GROUP);
    for (int s = 3; s <= 5; s++) {
      pace.look(64 * MB, s * SECOND);
      assertThat(pace.allows()).as("after %d s", s).isFalse();
    }
    pace.look(64 * MB, 6 * SECOND);
    assertThat(pace.allows()).isTrue();
  }

  @Test
  void whatWritesEarnedIsGivenUpOnceTheyStop() {
    CachedMergePace pace = new CachedMergePace(16 * MB, 4 * GROUP, 0);
    pace.look(200 * MB, SECOND);
    pace.spend(GROUP);
    assertThat(pace.allows()).as("192 MB left while writes go on").isTrue();

    // Nothing written in the tenth of a second since: one group may start, then the floor rules.
    pace.look(200 * MB, SECOND + SECOND / 10);
    assertThat(pace.allows()).isTrue();
    pace.spend(GROUP);
    assertThat(pace.allows()).isFalse();
    pace.look(200 * MB, 2 * SECOND);
    assertThat(pace.allows()).isFalse();
  }

  @Test
  void anIdleHourSavesUpNoMoreThanTheCap() {
    CachedMergePace pace = new CachedMergePace(16 * MB, 4 * GROUP, 0);
    pace.look(0, 3600 * SECOND);
    for (int i = 0; i < 4; i++) {
      assertThat(pace.allows()).isTrue();
      pace.spend(GROUP);
    }
    assertThat(pace.allows()).isFalse();
  }
}
