package dev.diskless.operator.reconciler.cluster.autoscaling;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Each broker's cumulative process CPU time, read from its /metrics over time, turned into cores
 * used: the counter's increase over the window divided by the time between the first and last
 * reading, which is the average over the window. A counter that goes down (the broker restarted)
 * starts the broker's window afresh instead of producing a negative rate.
 */
public final class CpuCounterWindow {

  private record Reading(Instant at, double cpuSeconds) {}

  private final Duration window;
  private final Map<String, List<Reading>> byBroker = new HashMap<>();

  public CpuCounterWindow(Duration window) {
    this.window = window;
  }

  /** Records a broker's counter (CPU seconds since its process started) read at {@code at}. */
  public void record(String broker, Instant at, double cpuSeconds) {
    List<Reading> readings = byBroker.computeIfAbsent(broker, b -> new ArrayList<>());
    if (!readings.isEmpty()) {
      Reading last = readings.getLast();
      if (cpuSeconds < last.cpuSeconds()) {
        // The process restarted and its counter with it.
        readings.clear();
      } else if (!at.isAfter(last.at())) {
        return;
      }
    }
    readings.add(new Reading(at, cpuSeconds));
    Instant horizon = at.minus(window);
    // Keep the last reading at or before the horizon, so that the rate spans the whole window.
    while (readings.size() > 2 && !readings.get(1).at().isAfter(horizon)) {
      readings.removeFirst();
    }
  }

  /** Forgets brokers that are gone (scaled in, replaced). */
  public void retain(Set<String> brokers) {
    byBroker.keySet().retainAll(brokers);
  }

  /** Cores the broker used on average over the window; empty until it has two readings. */
  public Optional<Double> coresUsed(String broker) {
    List<Reading> readings = byBroker.get(broker);
    if (readings == null || readings.size() < 2) {
      return Optional.empty();
    }
    Reading first = readings.getFirst();
    Reading last = readings.getLast();
    double seconds = Duration.between(first.at(), last.at()).toNanos() / 1e9;
    return Optional.of((last.cpuSeconds() - first.cpuSeconds()) / seconds);
  }

  /** Cores used over the window by each broker that has a rate (two readings or more). */
  public Map<String, Double> rates() {
    Map<String, Double> out = new TreeMap<>();
    for (String broker : byBroker.keySet()) {
      coresUsed(broker).ifPresent(c -> out.put(broker, c));
    }
    return out;
  }

  /**
   * The brokers' average CPU use in percent of the pod CPU request, over those with a rate; empty
   * when none has one yet.
   */
  public Optional<CpuLoad> load(double requestCores) {
    int brokers = 0;
    double cores = 0;
    for (String broker : byBroker.keySet()) {
      Optional<Double> used = coresUsed(broker);
      if (used.isPresent()) {
        brokers++;
        cores += used.get();
      }
    }
    if (brokers == 0 || requestCores <= 0) {
      return Optional.empty();
    }
    return Optional.of(new CpuLoad(brokers, 100 * cores / brokers / requestCores));
  }
}
