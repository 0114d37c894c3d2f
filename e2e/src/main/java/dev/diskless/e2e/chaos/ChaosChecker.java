package dev.diskless.e2e.chaos;

import dev.diskless.e2e.chaos.ChaosHistory.Assign;
import dev.diskless.e2e.chaos.ChaosHistory.Committed;
import dev.diskless.e2e.chaos.ChaosHistory.Event;
import dev.diskless.e2e.chaos.ChaosHistory.Fail;
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
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks a {@link ChaosHistory} against every anomaly of ../shared/RELIABILITY.md that its workload
 * can show, and against liveness: how long after each fault healed every partition acknowledged a
 * produce again. Each anomaly is counted with a few examples for the report.
 */
public final class ChaosChecker {

  /** What must never happen. */
  public enum Anomaly {
    /** An acknowledged send never read, although reads reached past its offset. */
    LOST("lost"),
    /** An acknowledged send the final reader did not read, nor anyone past its offset. */
    UNSEEN("unseen"),
    /** One offset with two values, two acks of one offset, or a value read off its ack's offset. */
    INCONSISTENT_OFFSET("inconsistent"),
    /** One value at two offsets. */
    DUPLICATE("duplicate"),
    /** A value read that nobody sent. */
    PHANTOM("phantom"),
    /** A send invoked after another's ack on the same partition got an offset at or below it. */
    REAL_TIME_ORDER("rt-order"),
    /** A consumer jumped over offsets that hold records, without a seek or reassignment. */
    POLL_SKIP("poll-skip"),
    /** A consumer read at or below its last offset without a seek or reassignment. */
    NONMONOTONIC_POLL("nonmonotonic"),
    /** A read_committed reader returned a value of an aborted transaction. */
    ABORTED_READ("aborted-read"),
    /**
     * The final read holds some but not all values of a transaction whose outcome the producer did
     * not learn (a committed one missing values counts as lost or unseen).
     */
    TORN_TRANSACTION("torn-txn"),
    /**
     * The final read of the compacted topic lacks a key's latest acknowledged value and holds no
     * later value of that key: compaction removed what it must keep.
     */
    KEY_LOST("key-lost"),
    /** A poison batch (valid CRC, unreadable contents) was acknowledged, so it was stored. */
    POISON_ACKED("poison-acked"),
    /**
     * A transaction still held the last stable offset a minute after every producer stopped: the
     * coordinator neither finished nor aborted it.
     */
    HANGING_TRANSACTION("hanging-txn"),
    /**
     * A topic deleted and created again under its name did not read back exactly what its new
     * generation wrote, from offset 0: records of the old one came back, or new ones went missing.
     */
    RECREATE("recreate"),
    /** The group's committed offset of a partition went backwards. */
    COMMITTED_OFFSET_REGRESSION("commit-regress"),
    /** After a fault healed, some partition acknowledged nothing within the recovery limit. */
    NOT_RECOVERED("not-recovered"),
    /** The final reader could not read every partition to its end: the cluster did not serve. */
    FINAL_READ_INCOMPLETE("unreadable");

    private final String column;

    Anomaly(String column) {
      this.column = column;
    }

    /** The short name in the results table. */
    public String column() {
      return column;
    }
  }

  /** The outcome of one history. */
  public record Verdict(
      int ops,
      int acknowledged,
      int failed,
      int reads,
      int committedTxns,
      int abortedTxns,
      int unknownTxns,
      int keyedAcknowledged,
      int compactedAway,
      Map<Anomaly, Integer> counts,
      Map<Anomaly, List<String>> examples,
      long longestUnavailableMs,
      long slowestRecoveryMs) {

    public boolean clean() {
      return counts.values().stream().allMatch(c -> c == 0);
    }

    public int count(Anomaly a) {
      return counts.getOrDefault(a, 0);
    }
  }

  private static final int EXAMPLES = 5;

  private final Map<Anomaly, Integer> counts = new EnumMap<>(Anomaly.class);
  private final Map<Anomaly, List<String>> examples = new EnumMap<>(Anomaly.class);

  private ChaosChecker() {
    for (Anomaly a : Anomaly.values()) {
      counts.put(a, 0);
      examples.put(a, new ArrayList<>());
    }
  }

  /**
   * Checks {@code events} for a topic of {@code partitions} partitions; a partition that
   * acknowledges nothing within {@code recoveryLimit} of a fault healing is a liveness failure.
   */
  public static Verdict check(List<Event> events, int partitions, Duration recoveryLimit) {
    return new ChaosChecker().run(events, partitions, recoveryLimit.toNanos());
  }

  private void found(Anomaly a, String example) {
    counts.merge(a, 1, Integer::sum);
    List<String> list = examples.get(a);
    if (list.size() < EXAMPLES) {
      list.add(example);
    }
  }

  private record Position(int partition, long offset) {
    @Override
    public String toString() {
      return partition + "@" + offset;
    }
  }

  private Verdict run(List<Event> events, int partitions, long recoveryLimitNanos) {
    Map<String, Invoke> invoked = new HashMap<>();
    Map<String, Ok> acked = new LinkedHashMap<>();
    int failed = 0;
    List<Read> reads = new ArrayList<>();
    List<Final> finals = new ArrayList<>();
    List<Txn> txns = new ArrayList<>();
    boolean finalComplete = false;
    for (Event e : events) {
      switch (e) {
        case Invoke i -> invoked.put(i.value(), i);
        case Ok o -> acked.put(o.value(), o);
        case Fail f -> failed++;
        case Read r -> reads.add(r);
        case Final f -> finals.add(f);
        case FinalDone d -> finalComplete = d.complete();
        case Txn t -> txns.add(t);
        case ChaosHistory.Recreated rc when rc.problem() != null ->
            found(
                Anomaly.RECREATE,
                rc.topic() + " generation " + rc.generation() + ": " + rc.problem());
        case ChaosHistory.Stable st when !st.stable() ->
            found(
                Anomaly.HANGING_TRANSACTION,
                "last stable offset below the high watermark a minute after the producers stopped");
        case ChaosHistory.Poison p when p.errorCode() == 0 ->
            found(
                Anomaly.POISON_ACKED,
                "a "
                    + p.kind()
                    + " batch acknowledged at "
                    + new Position(p.partition(), p.baseOffset()));
        default -> {}
      }
    }

    // Every place each value was seen, and every value seen at each place.
    Map<Position, String> valueAt = new HashMap<>();
    Map<String, Set<Position>> placesOf = new HashMap<>();
    Map<Integer, TreeSet<Long>> known = new HashMap<>();
    Set<Position> inconsistent = new HashSet<>();
    List<Object[]> seen = new ArrayList<>();
    reads.forEach(r -> seen.add(new Object[] {r.partition(), r.offset(), r.value()}));
    finals.forEach(f -> seen.add(new Object[] {f.partition(), f.offset(), f.value()}));
    for (Object[] s : seen) {
      Position at = new Position((int) s[0], (long) s[1]);
      String value = (String) s[2];
      known.computeIfAbsent(at.partition(), p -> new TreeSet<>()).add(at.offset());
      placesOf.computeIfAbsent(value, v -> new HashSet<>()).add(at);
      String before = valueAt.putIfAbsent(at, value);
      if (before != null && !before.equals(value) && inconsistent.add(at)) {
        found(Anomaly.INCONSISTENT_OFFSET, at + " read as " + before + " and as " + value);
      }
    }

    // Acknowledgements against each other and against what was read.
    Map<Position, String> ackedAt = new HashMap<>();
    for (Ok o : acked.values()) {
      Position at = new Position(o.partition(), o.offset());
      String before = ackedAt.putIfAbsent(at, o.value());
      if (before != null) {
        found(
            Anomaly.INCONSISTENT_OFFSET, at + " acknowledged for " + before + " and " + o.value());
      }
      Set<Position> places = placesOf.getOrDefault(o.value(), Set.of());
      for (Position p : places) {
        if (!p.equals(at)) {
          found(
              Anomaly.INCONSISTENT_OFFSET, o.value() + " acknowledged at " + at + ", read at " + p);
        }
      }
    }
    placesOf.forEach(
        (value, places) -> {
          if (places.size() > 1) {
            found(
                Anomaly.DUPLICATE,
                value + " at " + new TreeSet<>(places.stream().map(Position::toString).toList()));
          }
          if (!invoked.containsKey(value)) {
            found(Anomaly.PHANTOM, value + " read at " + places + " but never sent");
          }
        });

    if (!finalComplete) {
      found(
          Anomaly.FINAL_READ_INCOMPLETE, "the final read did not reach the end of every partition");
    }

    // Lost and unseen: acknowledged, not in the final read (lost only if that read was whole). A
    // transactional send's ack says only that it was appended: it must be seen if its transaction
    // committed.
    Set<String> finalValues = new HashSet<>();
    finals.forEach(f -> finalValues.add(f.value()));
    Set<String> uncommitted = new HashSet<>();
    txns.stream()
        .filter(t -> t.outcome() != Outcome.COMMITTED)
        .forEach(t -> uncommitted.addAll(t.values()));
    for (Ok o : acked.values()) {
      if (finalValues.contains(o.value()) || uncommitted.contains(o.value())) {
        continue;
      }
      TreeSet<Long> offsets = known.get(o.partition());
      boolean readPast = finalComplete && offsets != null && offsets.higher(o.offset()) != null;
      found(
          readPast ? Anomaly.LOST : Anomaly.UNSEEN,
          o.value() + " acknowledged at " + new Position(o.partition(), o.offset()));
    }

    transactions(txns, placesOf, finalValues, finalComplete);
    realTimeOrder(invoked, acked);
    polls(events, known);
    committedOffsets(events);
    long[] liveness = liveness(events, acked, partitions, recoveryLimitNanos);
    int[] compaction = compaction(events);

    return new Verdict(
        invoked.size(),
        acked.size(),
        failed,
        reads.size(),
        (int) txns.stream().filter(t -> t.outcome() == Outcome.COMMITTED).count(),
        (int) txns.stream().filter(t -> t.outcome() == Outcome.ABORTED).count(),
        (int) txns.stream().filter(t -> t.outcome() == Outcome.UNKNOWN).count(),
        compaction[0],
        compaction[1],
        Map.copyOf(counts),
        Map.copyOf(examples),
        liveness[0],
        liveness[1]);
  }

  /**
   * No read_committed reader returns a value of an aborted transaction, and the final read holds
   * all or none of a transaction whose outcome its producer did not learn.
   */
  private void transactions(
      List<Txn> txns,
      Map<String, Set<Position>> placesOf,
      Set<String> finalValues,
      boolean finalComplete) {
    for (Txn t : txns) {
      if (t.outcome() == Outcome.ABORTED) {
        for (String v : t.values()) {
          Set<Position> places = placesOf.get(v);
          if (places != null) {
            found(Anomaly.ABORTED_READ, v + " of aborted " + t.id() + " read at " + places);
          }
        }
      } else if (t.outcome() == Outcome.UNKNOWN && finalComplete) {
        List<String> seen = t.values().stream().filter(finalValues::contains).toList();
        if (!seen.isEmpty() && seen.size() < t.values().size()) {
          found(
              Anomaly.TORN_TRANSACTION,
              t.id() + " of " + t.values() + " has only " + seen + " in the final read");
        }
      }
    }
  }

  /**
   * The compacted topic's final read: every value at the offset it was acknowledged at, sent once
   * and by someone, and for each key its latest acknowledged value or a later one of that key.
   * Returns the keyed sends acknowledged and how many of them compaction removed.
   */
  private int[] compaction(List<Event> events) {
    Map<String, KeyedInvoke> invoked = new HashMap<>();
    Map<String, KeyedOk> acked = new HashMap<>();
    Map<String, KeyedFinal> finals = new HashMap<>();
    Boolean complete = null;
    for (Event e : events) {
      switch (e) {
        case KeyedInvoke i -> invoked.put(i.value(), i);
        case KeyedOk o -> acked.put(o.value(), o);
        case KeyedFinal f -> {
          KeyedFinal before = finals.putIfAbsent(f.value(), f);
          if (before != null) {
            found(
                Anomaly.DUPLICATE,
                f.value() + " at " + position(before) + " and " + position(f) + " (compacted)");
          }
        }
        case KeyedFinalDone d -> complete = d.complete();
        default -> {}
      }
    }
    if (complete == null) {
      return new int[] {0, 0};
    }
    if (!complete) {
      found(
          Anomaly.FINAL_READ_INCOMPLETE,
          "the final read of the compacted topic did not reach its end");
    }
    // The latest final record of each key, and checks of each final record against its send.
    Map<String, KeyedFinal> latest = new HashMap<>();
    for (KeyedFinal f : finals.values()) {
      KeyedInvoke sent = invoked.get(f.value());
      if (sent == null || !sent.key().equals(f.key())) {
        found(Anomaly.PHANTOM, f.value() + " with key " + f.key() + " read at " + position(f));
        continue;
      }
      KeyedOk ok = acked.get(f.value());
      if (ok != null && (ok.partition() != f.partition() || ok.offset() != f.offset())) {
        found(
            Anomaly.INCONSISTENT_OFFSET,
            f.value()
                + " acknowledged at "
                + new Position(ok.partition(), ok.offset())
                + ", read at "
                + position(f)
                + " (compacted)");
      }
      latest.merge(f.key(), f, (a, b) -> a.offset() >= b.offset() ? a : b);
    }
    Map<String, KeyedOk> latestAcked = new HashMap<>();
    acked.forEach(
        (value, ok) ->
            latestAcked.merge(
                invoked.get(value).key(), ok, (a, b) -> a.offset() >= b.offset() ? a : b));
    if (complete) {
      latestAcked.forEach(
          (key, ok) -> {
            KeyedFinal f = latest.get(key);
            if (f == null || f.offset() < ok.offset()) {
              found(
                  Anomaly.KEY_LOST,
                  key
                      + ": latest acknowledged "
                      + ok.value()
                      + " at "
                      + new Position(ok.partition(), ok.offset())
                      + (f == null ? ", nothing of the key read" : ", read only " + position(f)));
            }
          });
    }
    int away = (int) acked.keySet().stream().filter(v -> !finals.containsKey(v)).count();
    return new int[] {acked.size(), away};
  }

  private static String position(KeyedFinal f) {
    return new Position(f.partition(), f.offset()).toString();
  }

  /** A send invoked after an ack on its partition must land above that ack's offset. */
  private void realTimeOrder(Map<String, Invoke> invoked, Map<String, Ok> acked) {
    Map<Integer, List<Ok>> byPartition = new HashMap<>();
    acked
        .values()
        .forEach(o -> byPartition.computeIfAbsent(o.partition(), p -> new ArrayList<>()).add(o));
    byPartition.forEach(
        (partition, oks) -> {
          List<Ok> byAck = new ArrayList<>(oks);
          byAck.sort(Comparator.comparingLong(Ok::at));
          List<Ok> byInvoke = new ArrayList<>(oks);
          byInvoke.sort(Comparator.comparingLong(o -> invoked.get(o.value()).at()));
          int next = 0;
          Ok highest = null;
          for (Ok o : byInvoke) {
            long start = invoked.get(o.value()).at();
            while (next < byAck.size() && byAck.get(next).at() < start) {
              Ok a = byAck.get(next++);
              if (highest == null || a.offset() > highest.offset()) {
                highest = a;
              }
            }
            if (highest != null && o.offset() <= highest.offset()) {
              found(
                  Anomaly.REAL_TIME_ORDER,
                  o.value()
                      + " at "
                      + new Position(partition, o.offset())
                      + " was sent after "
                      + highest.value()
                      + " was acknowledged at "
                      + new Position(partition, highest.offset()));
            }
          }
        });
  }

  /** Each consumer's reads of a partition go up one record at a time until it is reassigned. */
  private void polls(List<Event> events, Map<Integer, TreeSet<Long>> known) {
    Map<String, Map<Integer, Long>> last = new HashMap<>();
    for (Event e : events) {
      if (e instanceof Assign a) {
        Map<Integer, Long> positions = last.get(a.consumer());
        if (positions != null) {
          a.partitions().forEach(positions::remove);
        }
      } else if (e instanceof Read r) {
        Map<Integer, Long> positions = last.computeIfAbsent(r.consumer(), c -> new HashMap<>());
        Long before = positions.put(r.partition(), r.offset());
        if (before == null) {
          continue;
        }
        if (r.offset() <= before) {
          found(
              Anomaly.NONMONOTONIC_POLL,
              r.consumer()
                  + " read "
                  + new Position(r.partition(), r.offset())
                  + " after offset "
                  + before);
        } else {
          Long between = known.get(r.partition()).higher(before);
          if (between != null && between < r.offset()) {
            found(
                Anomaly.POLL_SKIP,
                r.consumer()
                    + " read "
                    + new Position(r.partition(), r.offset())
                    + " after offset "
                    + before
                    + ", skipping "
                    + between);
          }
        }
      }
    }
  }

  private void committedOffsets(List<Event> events) {
    Map<Integer, Long> last = new HashMap<>();
    for (Event e : events) {
      if (e instanceof Committed c) {
        c.offsets()
            .forEach(
                (partition, offset) -> {
                  Long before = last.put(partition, offset);
                  if (before != null && offset < before) {
                    found(
                        Anomaly.COMMITTED_OFFSET_REGRESSION,
                        "partition " + partition + " committed " + offset + " after " + before);
                    last.put(partition, before);
                  }
                });
      }
    }
  }

  /**
   * The longest time any partition went without an acknowledgement while the workload ran, and the
   * slowest recovery: from a fault healing to every partition having acknowledged a send again.
   */
  private long[] liveness(
      List<Event> events, Map<String, Ok> acked, int partitions, long recoveryLimitNanos) {
    Map<Integer, TreeSet<Long>> ackTimes = new TreeMap<>();
    for (int p = 0; p < partitions; p++) {
      ackTimes.put(p, new TreeSet<>());
    }
    acked
        .values()
        .forEach(o -> ackTimes.computeIfAbsent(o.partition(), p -> new TreeSet<>()).add(o.at()));
    long first = Long.MAX_VALUE;
    long lastInvoke = Long.MIN_VALUE;
    for (Event e : events) {
      if (e instanceof Invoke i) {
        first = Math.min(first, i.at());
        lastInvoke = Math.max(lastInvoke, i.at());
      }
    }
    long longest = 0;
    if (first != Long.MAX_VALUE) {
      for (TreeSet<Long> times : ackTimes.values()) {
        long previous = first;
        for (long t : times) {
          longest = Math.max(longest, t - previous);
          previous = t;
        }
        longest = Math.max(longest, lastInvoke - previous);
      }
    }
    long slowest = 0;
    for (Event e : events) {
      if (e instanceof Healed h) {
        long recovery = 0;
        for (Map.Entry<Integer, TreeSet<Long>> entry : ackTimes.entrySet()) {
          Long next = entry.getValue().ceiling(h.at());
          long took = next == null ? Long.MAX_VALUE : next - h.at();
          recovery = Math.max(recovery, took);
          if (took > recoveryLimitNanos) {
            found(
                Anomaly.NOT_RECOVERED,
                "partition "
                    + entry.getKey()
                    + (next == null
                        ? " acknowledged nothing after " + h.fault() + " healed"
                        : " first acknowledged "
                            + Duration.ofNanos(took).toMillis()
                            + " ms after "
                            + h.fault()
                            + " healed"));
          }
        }
        slowest = Math.max(slowest, recovery);
      }
    }
    return new long[] {
      Duration.ofNanos(longest).toMillis(),
      slowest == Long.MAX_VALUE ? -1 : Duration.ofNanos(slowest).toMillis()
    };
  }
}
