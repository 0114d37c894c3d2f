package dev.diskless.operator.reconciler.cluster.autoscaling;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.OptionalInt;

/**
 * The broker counts recommended over time for one cluster, so that a scale decision rests on a
 * whole stabilization window rather than one sample: a scale-out takes the smallest count of its
 * window (every recommendation asked for at least that many), a scale-in the largest (none asked
 * for more). A window counts only once it has been observed from start to end.
 */
public final class RecommendationHistory {

  private record Entry(Instant at, int brokers) {}

  private final Deque<Entry> entries = new ArrayDeque<>();
  private Instant observedSince;

  /** Adds a recommendation and forgets those older than {@code keep}. */
  public void add(Instant at, int brokers, Duration keep) {
    if (observedSince == null) {
      observedSince = at;
    }
    entries.addLast(new Entry(at, brokers));
    Instant horizon = at.minus(keep);
    while (!entries.isEmpty() && entries.peekFirst().at().isBefore(horizon)) {
      entries.removeFirst();
    }
  }

  /** Forgets everything, e.g. when the measurements stop making sense (no samples for long). */
  public void clear() {
    entries.clear();
    observedSince = null;
  }

  /** Whether recommendations were recorded throughout {@code window} up to {@code now}. */
  public boolean covers(Instant now, Duration window) {
    return observedSince != null && !observedSince.isAfter(now.minus(window));
  }

  /** The smallest recommendation within the window, if any. */
  public OptionalInt lowest(Instant now, Duration window) {
    return entries.stream()
        .filter(e -> !e.at().isBefore(now.minus(window)))
        .mapToInt(Entry::brokers)
        .min();
  }

  /** The largest recommendation within the window, if any. */
  public OptionalInt highest(Instant now, Duration window) {
    return entries.stream()
        .filter(e -> !e.at().isBefore(now.minus(window)))
        .mapToInt(Entry::brokers)
        .max();
  }
}
