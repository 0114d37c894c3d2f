package dev.diskless.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.e2e.chaos.ChaosChecker.Anomaly;
import dev.diskless.e2e.chaos.ChaosChecker.Verdict;
import dev.diskless.e2e.chaos.ChaosHistory.Assign;
import dev.diskless.e2e.chaos.ChaosHistory.Committed;
import dev.diskless.e2e.chaos.ChaosHistory.Event;
import dev.diskless.e2e.chaos.ChaosHistory.Final;
import dev.diskless.e2e.chaos.ChaosHistory.FinalDone;
import dev.diskless.e2e.chaos.ChaosHistory.Healed;
import dev.diskless.e2e.chaos.ChaosHistory.Invoke;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedFinal;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedFinalDone;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedInvoke;
import dev.diskless.e2e.chaos.ChaosHistory.KeyedOk;
import dev.diskless.e2e.chaos.ChaosHistory.Ok;
import dev.diskless.e2e.chaos.ChaosHistory.Outcome;
import dev.diskless.e2e.chaos.ChaosHistory.Read;
import dev.diskless.e2e.chaos.ChaosHistory.Txn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Each anomaly of ../shared/RELIABILITY.md planted in an otherwise clean history is found, named
 * and counted once; the clean history has none.
 */
class ChaosCheckerTest {

  private static final Duration LIMIT = Duration.ofSeconds(30);
  private static final long S = 1_000_000_000L;

  /** Two partitions, three sends each, acknowledged in order, read by a consumer and at the end. */
  private static List<Event> clean() {
    List<Event> h = new ArrayList<>();
    long t = 0;
    for (int i = 0; i < 3; i++) {
      for (int p = 0; p < 2; p++) {
        h.add(new Invoke(t++, "v" + p + i, p));
        h.add(new Ok(t++, "v" + p + i, p, i));
      }
    }
    h.add(new Assign(t++, "c1", Set.of(0, 1)));
    for (int i = 0; i < 3; i++) {
      for (int p = 0; p < 2; p++) {
        h.add(new Read(t++, "c1", p, i, "v" + p + i));
      }
    }
    h.add(new Committed(t++, Map.of(0, 3L, 1, 3L)));
    for (int p = 0; p < 2; p++) {
      for (int i = 0; i < 3; i++) {
        h.add(new Final(t++, p, i, "v" + p + i));
      }
    }
    h.add(new FinalDone(t, true));
    return h;
  }

  private static Verdict check(List<Event> h) {
    return ChaosChecker.check(h, 2, LIMIT);
  }

  private static void assertOnly(Verdict v, Anomaly anomaly) {
    assertThat(v.count(anomaly)).as("%s in %s", anomaly, v.examples()).isGreaterThan(0);
    for (Anomaly other : Anomaly.values()) {
      if (other != anomaly) {
        assertThat(v.count(other)).as("%s: %s", other, v.examples().get(other)).isZero();
      }
    }
  }

  @Test
  void aCleanHistoryHasNoAnomaly() {
    Verdict v = check(clean());
    assertThat(v.clean()).as("%s", v.examples()).isTrue();
    assertThat(v.ops()).isEqualTo(6);
    assertThat(v.acknowledged()).isEqualTo(6);
    assertThat(v.reads()).isEqualTo(6);
  }

  @Test
  void anAcknowledgedValueMissingBelowLaterReadsIsLost() {
    List<Event> h = clean();
    h.removeIf(e -> e instanceof Final f && f.value().equals("v01"));
    h.removeIf(e -> e instanceof Read r && r.value().equals("v01"));
    // The consumer read 0@0 then 0@2: a skip over a record nobody else saw is not known to it.
    Verdict v = check(h);
    assertOnly(v, Anomaly.LOST);
    assertThat(v.examples().get(Anomaly.LOST).getFirst()).contains("v01").contains("0@1");
  }

  @Test
  void anAcknowledgedValueAtTheEndThatNobodyReadIsUnseen() {
    List<Event> h = clean();
    h.removeIf(e -> e instanceof Final f && f.value().equals("v12"));
    h.removeIf(e -> e instanceof Read r && r.value().equals("v12"));
    assertOnly(check(h), Anomaly.UNSEEN);
  }

  @Test
  void aFinalReadThatCouldNotFinishIsReportedAndLosesNothingItDidNotSee() {
    List<Event> h = clean();
    h.removeIf(e -> e instanceof Final f && f.partition() == 1);
    h.replaceAll(e -> e instanceof FinalDone d ? new FinalDone(d.at(), false) : e);
    Verdict v = check(h);
    assertThat(v.count(Anomaly.FINAL_READ_INCOMPLETE)).isEqualTo(1);
    // Partition 1 was read by the consumer, but without a whole final read nothing is known lost.
    assertThat(v.count(Anomaly.LOST)).isZero();
    assertThat(v.count(Anomaly.UNSEEN)).isEqualTo(3);
  }

  @Test
  void twoValuesAtOneOffsetAreInconsistent() {
    List<Event> h = clean();
    h.add(new Invoke(1000, "other", 0));
    h.replaceAll(
        e ->
            e instanceof Final f && f.value().equals("v01") ? new Final(f.at(), 0, 1, "other") : e);
    Verdict v = check(h);
    assertThat(v.count(Anomaly.INCONSISTENT_OFFSET)).isGreaterThan(0);
    // v01 was read at 0@1 once and is gone from there now: lost as well.
    assertThat(v.count(Anomaly.LOST)).isEqualTo(1);
  }

  @Test
  void twoAcksOfOneOffsetAreInconsistent() {
    List<Event> h = clean();
    h.add(new Invoke(1000, "twin", 0));
    h.add(new Ok(1001, "twin", 0, 2));
    Verdict v = check(h);
    assertThat(v.count(Anomaly.INCONSISTENT_OFFSET)).isGreaterThan(0);
  }

  @Test
  void aValueAtTwoOffsetsIsADuplicate() {
    List<Event> h = clean();
    h.add(new Final(1000, 0, 3, "v00"));
    Verdict v = check(h);
    assertThat(v.count(Anomaly.DUPLICATE)).isEqualTo(1);
    assertThat(v.count(Anomaly.PHANTOM)).isZero();
  }

  @Test
  void aValueNobodySentIsAPhantom() {
    List<Event> h = clean();
    h.add(new Final(1000, 1, 3, "ghost"));
    assertOnly(check(h), Anomaly.PHANTOM);
  }

  @Test
  void aSendAfterAnAckThatLandsBelowItBreaksRealTimeOrder() {
    List<Event> h = new ArrayList<>();
    h.add(new Invoke(1, "a", 0));
    h.add(new Ok(2, "a", 0, 1));
    h.add(new Invoke(3, "b", 0));
    h.add(new Ok(4, "b", 0, 0));
    h.add(new Final(5, 0, 0, "b"));
    h.add(new Final(6, 0, 1, "a"));
    h.add(new Invoke(7, "c", 1));
    h.add(new Ok(8, "c", 1, 0));
    h.add(new Final(9, 1, 0, "c"));
    h.add(new FinalDone(10, true));
    assertOnly(ChaosChecker.check(h, 2, LIMIT), Anomaly.REAL_TIME_ORDER);
  }

  @Test
  void concurrentSendsMayLandInEitherOrder() {
    List<Event> h = new ArrayList<>();
    h.add(new Invoke(1, "a", 0));
    h.add(new Invoke(2, "b", 0));
    h.add(new Ok(3, "b", 0, 0));
    h.add(new Ok(4, "a", 0, 1));
    h.add(new Final(5, 0, 0, "b"));
    h.add(new Final(6, 0, 1, "a"));
    h.add(new FinalDone(7, true));
    assertThat(ChaosChecker.check(h, 1, LIMIT).clean()).isTrue();
  }

  @Test
  void aConsumerJumpingOverAKnownRecordSkips() {
    List<Event> h = clean();
    h.removeIf(e -> e instanceof Read r && r.value().equals("v01"));
    assertOnly(check(h), Anomaly.POLL_SKIP);
  }

  @Test
  void aConsumerReadingBackwardsWithoutAReassignmentIsNonmonotonic() {
    List<Event> h = clean();
    h.add(new Read(1000, "c1", 0, 1, "v01"));
    assertOnly(check(h), Anomaly.NONMONOTONIC_POLL);
  }

  @Test
  void readingAgainAfterAReassignmentIsFine() {
    List<Event> h = clean();
    h.add(new Assign(999, "c1", Set.of(0)));
    h.add(new Read(1000, "c1", 0, 1, "v01"));
    assertThat(check(h).clean()).isTrue();
  }

  @Test
  void aCommittedOffsetGoingBackwardsIsARegression() {
    List<Event> h = clean();
    h.add(new Committed(1000, Map.of(0, 2L, 1, 3L)));
    assertOnly(check(h), Anomaly.COMMITTED_OFFSET_REGRESSION);
  }

  @Test
  void aPartitionSilentLongAfterAFaultHealedHasNotRecovered() {
    List<Event> h = new ArrayList<>();
    h.add(new Invoke(0, "a", 0));
    h.add(new Ok(0, "a", 0, 0));
    h.add(new Invoke(0, "b", 1));
    h.add(new Ok(0, "b", 1, 0));
    h.add(new Healed(10 * S, "kill-one"));
    h.add(new Invoke(11 * S, "c", 0));
    h.add(new Ok(12 * S, "c", 0, 1));
    h.add(new Invoke(13 * S, "d", 1));
    h.add(new Ok(50 * S, "d", 1, 1));
    h.add(new Final(51 * S, 0, 0, "a"));
    h.add(new Final(51 * S, 0, 1, "c"));
    h.add(new Final(51 * S, 1, 0, "b"));
    h.add(new Final(51 * S, 1, 1, "d"));
    h.add(new FinalDone(52 * S, true));
    Verdict v = ChaosChecker.check(h, 2, LIMIT);
    assertOnly(v, Anomaly.NOT_RECOVERED);
    assertThat(v.slowestRecoveryMs()).isEqualTo(40_000);
    assertThat(v.longestUnavailableMs()).isEqualTo(50_000);
  }

  /**
   * The clean history plus two transactions on partition 0 after it: t1 (x0, x1 at offsets 3, 4)
   * and t2 (y0 at offset 5), with {@code t1} ending as given and t2 committed; a read_committed
   * final read sees the committed ones.
   */
  private static List<Event> withTransactions(Outcome t1, boolean t1Visible) {
    List<Event> h = clean();
    h.removeIf(e -> e instanceof FinalDone);
    long t = 500;
    h.add(new Invoke(t++, "x0", 0));
    h.add(new Invoke(t++, "x1", 0));
    h.add(new Ok(t++, "x0", 0, 3));
    h.add(new Ok(t++, "x1", 0, 4));
    h.add(new Txn(t++, "t1", List.of("x0", "x1"), t1));
    h.add(new Invoke(t++, "y0", 0));
    h.add(new Ok(t++, "y0", 0, 6));
    h.add(new Txn(t++, "t2", List.of("y0"), Outcome.COMMITTED));
    if (t1Visible) {
      h.add(new Final(t++, 0, 3, "x0"));
      h.add(new Final(t++, 0, 4, "x1"));
    }
    h.add(new Final(t++, 0, 6, "y0"));
    h.add(new FinalDone(t, true));
    return h;
  }

  @Test
  void committedAbortedAndUndecidedTransactionsReadAllOrNothingAreClean() {
    Verdict committed = check(withTransactions(Outcome.COMMITTED, true));
    assertThat(committed.clean()).as("%s", committed.examples()).isTrue();
    assertThat(committed.committedTxns()).isEqualTo(2);
    Verdict aborted = check(withTransactions(Outcome.ABORTED, false));
    assertThat(aborted.clean()).as("%s", aborted.examples()).isTrue();
    assertThat(aborted.abortedTxns()).isEqualTo(1);
    assertThat(check(withTransactions(Outcome.UNKNOWN, true)).clean()).isTrue();
    assertThat(check(withTransactions(Outcome.UNKNOWN, false)).clean()).isTrue();
  }

  @Test
  void aValueOfAnAbortedTransactionReadIsAnAbortedRead() {
    Verdict v = check(withTransactions(Outcome.ABORTED, true));
    assertOnly(v, Anomaly.ABORTED_READ);
    assertThat(v.count(Anomaly.ABORTED_READ)).isEqualTo(2);
    assertThat(v.examples().get(Anomaly.ABORTED_READ).getFirst()).contains("t1");
  }

  @Test
  void aCommittedTransactionMissingBelowLaterReadsIsLost() {
    Verdict v = check(withTransactions(Outcome.COMMITTED, false));
    assertOnly(v, Anomaly.LOST);
    assertThat(v.count(Anomaly.LOST)).isEqualTo(2);
  }

  @Test
  void anUndecidedTransactionVisibleInPartIsTorn() {
    List<Event> h = withTransactions(Outcome.UNKNOWN, true);
    h.removeIf(e -> e instanceof Final f && f.value().equals("x1"));
    assertOnly(check(h), Anomaly.TORN_TRANSACTION);
  }

  /**
   * The clean history plus a compacted topic: key a written at offsets 0 and 2, key b at 1 and 3
   * (acknowledged), and b once more at 4 without an answer; compaction left a@2, b@3 and b@4.
   */
  private static List<Event> withCompaction() {
    List<Event> h = clean();
    long t = 700;
    String[][] sends = {{"a", "ka0"}, {"b", "kb0"}, {"a", "ka1"}, {"b", "kb1"}, {"b", "kb2"}};
    for (int i = 0; i < sends.length; i++) {
      h.add(new KeyedInvoke(t++, sends[i][0], sends[i][1], 0));
      if (i < 4) {
        h.add(new KeyedOk(t++, sends[i][1], 0, i));
      }
    }
    h.add(new KeyedFinal(t++, 0, 2, "a", "ka1"));
    h.add(new KeyedFinal(t++, 0, 3, "b", "kb1"));
    h.add(new KeyedFinal(t++, 0, 4, "b", "kb2"));
    h.add(new KeyedFinalDone(t, true));
    return h;
  }

  @Test
  void compactionThatKeepsEachKeysLatestValueIsClean() {
    Verdict v = check(withCompaction());
    assertThat(v.clean()).as("%s", v.examples()).isTrue();
    assertThat(v.keyedAcknowledged()).isEqualTo(4);
    assertThat(v.compactedAway()).isEqualTo(2);
    // A later unanswered write of the key may stand in for its latest acknowledged one.
    List<Event> h = withCompaction();
    h.removeIf(e -> e instanceof KeyedFinal f && f.value().equals("kb1"));
    assertThat(check(h).clean()).isTrue();
  }

  @Test
  void aKeysLatestAcknowledgedValueCompactedAwayIsAKeyLost() {
    List<Event> h = withCompaction();
    h.removeIf(e -> e instanceof KeyedFinal f && f.value().equals("ka1"));
    Verdict v = check(h);
    assertOnly(v, Anomaly.KEY_LOST);
    assertThat(v.examples().get(Anomaly.KEY_LOST).getFirst()).contains("ka1").contains("0@2");
    // Keeping an older value of the key instead does not hide it.
    h.add(new KeyedFinal(800, 0, 0, "a", "ka0"));
    assertOnly(check(h), Anomaly.KEY_LOST);
  }

  @Test
  void aCompactedRecordAwayFromItsOffsetOrFromNowhereIsFound() {
    List<Event> moved = withCompaction();
    moved.replaceAll(
        e ->
            e instanceof KeyedFinal f && f.value().equals("ka1")
                ? new KeyedFinal(f.at(), 0, 5, "a", "ka1")
                : e);
    assertOnly(check(moved), Anomaly.INCONSISTENT_OFFSET);
    List<Event> ghost = withCompaction();
    ghost.add(new KeyedFinal(900, 0, 5, "a", "nobody"));
    assertOnly(check(ghost), Anomaly.PHANTOM);
  }

  @Test
  void aPoisonBatchAcknowledgedIsFoundAndARefusedOneIsNot() {
    List<Event> h = clean();
    h.add(new ChaosHistory.Poison(100, "codec-7", 1, (short) 76, -1));
    assertThat(check(h).clean()).isTrue();
    h.add(new ChaosHistory.Poison(101, "lying-count", 0, (short) 0, 3));
    Verdict v = check(h);
    assertOnly(v, Anomaly.POISON_ACKED);
    assertThat(v.examples().get(Anomaly.POISON_ACKED).getFirst())
        .contains("lying-count")
        .contains("0@3");
  }

  @Test
  void aTransactionNobodyEndedIsHanging() {
    List<Event> h = clean();
    h.add(new ChaosHistory.Stable(100, true));
    assertThat(check(h).clean()).isTrue();
    h.add(new ChaosHistory.Stable(101, false));
    assertOnly(check(h), Anomaly.HANGING_TRANSACTION);
  }

  @Test
  void aRecreatedTopicReadingBackAnEarlierGenerationIsFound() {
    List<Event> h = clean();
    h.add(new ChaosHistory.Recreated(100, "t", 0, null));
    assertThat(check(h).clean()).isTrue();
    h.add(new ChaosHistory.Recreated(101, "t", 1, "read back [0:g0-0] after writing [0:g1-0]"));
    assertOnly(check(h), Anomaly.RECREATE);
  }
}
