package dev.diskless.operator.reconciler.cluster.autoscaling;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * One round's CPU measurement of a cluster's brokers: the load the autoscaler acts on and where it
 * came from, plus each source's own reading for comparison (both are exported as metrics). A
 * broker's rate over the window from its own /metrics counter is preferred; a broker whose /metrics
 * could not be read this round counts with its PodMetrics usage from metrics.k8s.io when that API
 * is served, else with the rate its earlier readings give, if any.
 *
 * @param load average use of the brokers counted, in percent of the CPU request
 * @param source where the counted brokers' figures came from; empty without a load
 * @param fromBrokers the average over brokers with a /metrics counter rate
 * @param fromPodMetrics the average over brokers with PodMetrics; empty when metrics.k8s.io is not
 *     served
 */
public record CpuSample(
    Optional<CpuLoad> load,
    Optional<CpuSource> source,
    Optional<CpuLoad> fromBrokers,
    Optional<CpuLoad> fromPodMetrics) {

  public static final CpuSample NONE =
      new CpuSample(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

  /**
   * Chooses each broker's figure.
   *
   * @param counterRates cores used over the window per broker, from its /metrics counter
   * @param readThisRound brokers whose /metrics answered in this round
   * @param podMetrics cores used per broker pod from metrics.k8s.io (empty when not served)
   * @param requestCores the broker pod's CPU request
   */
  public static CpuSample choose(
      Map<String, Double> counterRates,
      Set<String> readThisRound,
      Map<String, Double> podMetrics,
      double requestCores) {
    if (requestCores <= 0) {
      return NONE;
    }
    Set<String> brokers = new TreeSet<>(counterRates.keySet());
    brokers.addAll(podMetrics.keySet());
    double cores = 0;
    int counted = 0;
    boolean fromCounter = false;
    boolean fromPods = false;
    for (String b : brokers) {
      Double rate = counterRates.get(b);
      Double usage = podMetrics.get(b);
      if (rate != null && (readThisRound.contains(b) || usage == null)) {
        cores += rate;
        fromCounter = true;
      } else if (usage != null && !readThisRound.contains(b)) {
        cores += usage;
        fromPods = true;
      } else {
        // Read this round but no rate yet (a new broker): it must not count as an idle one.
        continue;
      }
      counted++;
    }
    if (counted == 0) {
      return new CpuSample(
          Optional.empty(),
          Optional.empty(),
          average(counterRates, requestCores),
          average(podMetrics, requestCores));
    }
    CpuSource source =
        fromCounter && fromPods
            ? CpuSource.BOTH
            : fromPods ? CpuSource.POD_METRICS : CpuSource.BROKER;
    return new CpuSample(
        Optional.of(new CpuLoad(counted, 100 * cores / counted / requestCores)),
        Optional.of(source),
        average(counterRates, requestCores),
        average(podMetrics, requestCores));
  }

  private static Optional<CpuLoad> average(Map<String, Double> cores, double requestCores) {
    if (cores.isEmpty()) {
      return Optional.empty();
    }
    double sum = cores.values().stream().mapToDouble(Double::doubleValue).sum();
    return Optional.of(new CpuLoad(cores.size(), 100 * sum / cores.size() / requestCores));
  }
}
