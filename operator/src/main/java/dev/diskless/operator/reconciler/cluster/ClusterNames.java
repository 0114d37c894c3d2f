package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.Map;
import java.util.TreeMap;

/**
 * Names and labels of everything derived from one cluster, in one place, so that the dependents,
 * their selectors and the status agree.
 */
public final class ClusterNames {

  public static final String MANAGED_BY = "diskless-operator";

  /**
   * Selects what this operator owns: its informers cache only these objects, not every ConfigMap
   * and Service of the cluster.
   */
  public static final String MANAGED_SELECTOR = "app.kubernetes.io/managed-by=" + MANAGED_BY;

  private ClusterNames() {}

  /** The brokers' ServiceAccount, Deployment and PodDisruptionBudget. */
  public static String brokers(DisklessKafkaCluster c) {
    return c.getMetadata().getName() + "-broker";
  }

  /**
   * A zone's broker Deployment ({@code spec.brokers.zones}); the API server has checked that the
   * zone is a DNS label.
   */
  public static String zoneBrokers(DisklessKafkaCluster c, String zone) {
    return brokers(c) + "-" + zone;
  }

  /** The ConfigMap with the brokers' settings file. */
  public static String config(DisklessKafkaCluster c) {
    return c.getMetadata().getName() + "-broker-config";
  }

  /** The shared WAL volume's claim (wal.type volume). */
  public static String walVolume(DisklessKafkaCluster c) {
    return c.getMetadata().getName() + "-wal";
  }

  /** The Service clients bootstrap from. */
  public static String bootstrap(DisklessKafkaCluster c) {
    return c.getMetadata().getName() + "-bootstrap";
  }

  /** The headless Service that gives each broker pod a DNS name. */
  public static String headless(DisklessKafkaCluster c) {
    return c.getMetadata().getName() + "-brokers";
  }

  /**
   * Where the cluster's objects live in its bucket. Namespace and name, so that clusters can share
   * a bucket without one's orphan sweeper taking the other's objects for its own orphans, and so
   * that a cluster deleted with deletionPolicy Retain and created again finds its data where it
   * was.
   */
  public static String keyPrefix(DisklessKafkaCluster c) {
    return c.getMetadata().getNamespace() + "/" + c.getMetadata().getName() + "/";
  }

  /** Labels that select the cluster's broker pods. */
  public static Map<String, String> brokerSelector(DisklessKafkaCluster c) {
    Map<String, String> labels = new TreeMap<>();
    labels.put("app.kubernetes.io/name", "diskless-kafka");
    labels.put("app.kubernetes.io/instance", c.getMetadata().getName());
    labels.put("app.kubernetes.io/component", "broker");
    return labels;
  }

  /** Labels on every derived object. */
  public static Map<String, String> labels(DisklessKafkaCluster c) {
    Map<String, String> labels = brokerSelector(c);
    labels.put("app.kubernetes.io/managed-by", MANAGED_BY);
    return labels;
  }

  /** Metadata of a derived object: its name, the cluster's namespace, the standard labels. */
  public static ObjectMeta metadata(DisklessKafkaCluster c, String name) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(c.getMetadata().getNamespace())
        .withLabels(labels(c))
        .build();
  }
}
