package dev.diskless.storage.testing.history;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.TestBatches.Read;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The history of a test run, checked as in ../shared/RELIABILITY.md: appends that were acknowledged
 * at an offset or failed, what readers observed along the way, and a final read of every partition.
 * Values are unique.
 */
public final class History {

  private record Ack(
      TopicPartitionId tp, long offset, String value, long invokedAt, long ackedAt) {}

  /** The outcome: the anomalies found (must be empty) and counts for the test's note. */
  public record Report(List<String> anomalies, int acknowledged, int failed, int observed) {
    @Override
    public String toString() {
      return "acknowledged="
          + acknowledged
          + " failed="
          + failed
          + " observed="
          + observed
          + " anomalies="
          + anomalies.size();
    }
  }

  private final AtomicLong clock = new AtomicLong();
  private final List<Ack> acks = new ArrayList<>();
  private final Set<String> failed = new HashSet<>();
  private final Set<String> sent = new HashSet<>();
  private final List<Read> observations = new ArrayList<>();
  private final List<TopicPartitionId> observedPartitions = new ArrayList<>();
  private final Map<TopicPartitionId, List<Read>> finals = new HashMap<>();
  private final Map<TopicPartitionId, Long> highWatermarks = new HashMap<>();

  public long invoke() {
    return clock.incrementAndGet();
  }

  public synchronized void ok(
      TopicPartitionId tp, long baseOffset, List<String> values, long invokedAt) {
    long acked = clock.incrementAndGet();
    for (int i = 0; i < values.size(); i++) {
      acks.add(new Ack(tp, baseOffset + i, values.get(i), invokedAt, acked));
      sent.add(values.get(i));
    }
  }

  public synchronized void fail(TopicPartitionId tp, List<String> values) {
    failed.addAll(values);
    sent.addAll(values);
  }

  public synchronized void observed(TopicPartitionId tp, long offset, String value) {
    observations.add(new Read(offset, value, 0, 0));
    observedPartitions.add(tp);
  }

  public synchronized void finalRead(TopicPartitionId tp, List<Read> reads, long highWatermark) {
    finals.put(tp, reads);
    highWatermarks.put(tp, highWatermark);
  }

  /**
   * Checks every anomaly. With {@code failuresAreDefinite}, a failed append must never become
   * visible (true when only the object store misbehaved; a metadata commit with an unknown outcome
   * makes failures indefinite).
   */
  public synchronized Report check(boolean failuresAreDefinite) {
    List<String> anomalies = new ArrayList<>();
    Map<TopicPartitionId, Map<Long, String>> truth = new HashMap<>();
    Map<String, String> whereSeen = new HashMap<>();
    for (var e : finals.entrySet()) {
      Map<Long, String> byOffset = new HashMap<>();
      long expected = 0;
      for (Read r : e.getValue()) {
        if (r.offset() != expected) {
          anomalies.add(
              "gap: " + e.getKey() + " offset " + r.offset() + " follows " + (expected - 1));
        }
        expected = r.offset() + 1;
        byOffset.put(r.offset(), r.value());
        String where = e.getKey() + "@" + r.offset();
        String previous = whereSeen.put(r.value(), where);
        if (previous != null) {
          anomalies.add("duplicate: " + r.value() + " at " + previous + " and " + where);
        }
        if (!sent.contains(r.value())) {
          anomalies.add("phantom: " + r.value() + " at " + where);
        }
        if (failuresAreDefinite && failed.contains(r.value())) {
          anomalies.add("failed append visible: " + r.value() + " at " + where);
        }
      }
      if (expected != highWatermarks.get(e.getKey())) {
        anomalies.add(
            "high watermark "
                + highWatermarks.get(e.getKey())
                + " of "
                + e.getKey()
                + " but final read ended at "
                + expected);
      }
      truth.put(e.getKey(), byOffset);
    }
    Map<String, Ack> ackByOffset = new HashMap<>();
    for (Ack a : acks) {
      String value = truth.getOrDefault(a.tp(), Map.of()).get(a.offset());
      if (value == null) {
        anomalies.add("lost: " + a.value() + " acknowledged at " + a.tp() + "@" + a.offset());
      } else if (!value.equals(a.value())) {
        anomalies.add(
            "inconsistent offset: "
                + a.tp()
                + "@"
                + a.offset()
                + " acked "
                + a.value()
                + " but holds "
                + value);
      }
      Ack other = ackByOffset.put(a.tp() + "@" + a.offset(), a);
      if (other != null) {
        anomalies.add(
            "two acks name " + a.tp() + "@" + a.offset() + ": " + other.value() + ", " + a.value());
      }
    }
    // Real-time order: a send invoked after another's ack on the same partition gets a higher
    // offset.
    Map<TopicPartitionId, List<Ack>> byPartition = new HashMap<>();
    acks.forEach(a -> byPartition.computeIfAbsent(a.tp(), k -> new ArrayList<>()).add(a));
    for (List<Ack> list : byPartition.values()) {
      list.sort((x, y) -> Long.compare(x.ackedAt(), y.ackedAt()));
      long maxAckedOffset = -1;
      long maxAckedAt = -1;
      List<Ack> byInvoke = new ArrayList<>(list);
      byInvoke.sort((x, y) -> Long.compare(x.invokedAt(), y.invokedAt()));
      int j = 0;
      for (Ack a : byInvoke) {
        while (j < list.size() && list.get(j).ackedAt() < a.invokedAt()) {
          maxAckedOffset = Math.max(maxAckedOffset, list.get(j).offset());
          maxAckedAt = list.get(j).ackedAt();
          j++;
        }
        if (a.offset() <= maxAckedOffset) {
          anomalies.add(
              "real-time order: "
                  + a.value()
                  + " invoked after an ack at offset "
                  + maxAckedOffset
                  + " got "
                  + a.offset()
                  + " (ack clock "
                  + maxAckedAt
                  + ")");
        }
      }
    }
    for (int i = 0; i < observations.size(); i++) {
      Read o = observations.get(i);
      String value = truth.getOrDefault(observedPartitions.get(i), Map.of()).get(o.offset());
      if (!o.value().equals(value)) {
        anomalies.add(
            "reader saw "
                + o.value()
                + " at "
                + observedPartitions.get(i)
                + "@"
                + o.offset()
                + " but the log holds "
                + value);
      }
    }
    return new Report(anomalies, acks.size(), failed.size(), observations.size());
  }
}
