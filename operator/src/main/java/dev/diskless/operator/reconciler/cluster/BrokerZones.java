package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a cluster's brokers are placed over its {@code spec.brokers.zones}: the count is split evenly
 * and deterministically, the first zones in list order taking the remainder (5 over [a, b, c] is
 * 2/2/1). The split depends on nothing but the list and the count, so a scale-in by one always
 * removes a broker from a zone with the most, a scale-out adds one to a zone with the fewest, and
 * the same spec always renders the same Deployments (no GitOps diff churn).
 */
public final class BrokerZones {

  /** The label on a zone Deployment, its selector and its pods, naming the zone. */
  public static final String ZONE_LABEL = "diskless.dev/zone";

  /** The well-known Node label (and, from Kubernetes 1.35, pod label) naming a zone. */
  public static final String TOPOLOGY_ZONE = "topology.kubernetes.io/zone";

  private BrokerZones() {}

  /** The zones listed in the spec; empty when brokers are not placed by zone. */
  public static List<String> of(DisklessKafkaCluster cluster) {
    List<String> zones = cluster.getSpec().brokers.zones;
    return zones == null ? List.of() : List.copyOf(zones);
  }

  /** Brokers per zone, in the list's order; every zone is present, even with 0 brokers. */
  public static Map<String, Integer> split(List<String> zones, int brokers) {
    if (zones.isEmpty()) {
      throw new IllegalArgumentException("no zones to split " + brokers + " brokers over");
    }
    if (brokers < 0) {
      throw new IllegalArgumentException("a negative broker count: " + brokers);
    }
    Map<String, Integer> out = new LinkedHashMap<>();
    int each = brokers / zones.size();
    int remainder = brokers % zones.size();
    for (int i = 0; i < zones.size(); i++) {
      out.put(zones.get(i), each + (i < remainder ? 1 : 0));
    }
    return out;
  }
}
