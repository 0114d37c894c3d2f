package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Computes a cluster's status from what was observed, keeping each condition's lastTransitionTime
 * unless its status really changed, so that an unchanged cluster gets an equal status and no write.
 */
public final class ClusterStatusFactory {

  private final Clock clock;

  public ClusterStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /** What the operator can say after its dependents were reconciled. */
  public DisklessKafkaClusterStatus observed(DisklessKafkaCluster cluster, int readyBrokers) {
    DisklessKafkaClusterStatus previous = cluster.getStatus();
    DisklessKafkaClusterStatus s = new DisklessKafkaClusterStatus();
    s.observedGeneration = cluster.getMetadata().getGeneration();
    s.replicas = 0;
    s.readyBrokers = readyBrokers;
    s.bootstrapServers =
        ClusterNames.bootstrap(cluster)
            + "."
            + cluster.getMetadata().getNamespace()
            + ".svc:"
            + cluster.getSpec().listeners.kafkaPort;
    List<Condition> conditions = new ArrayList<>();
    conditions.add(
        condition(
            previous,
            "Ready",
            "False",
            "BrokersNotDeployed",
            "Services, ServiceAccount and PodDisruptionBudget are in place; this operator version"
                + " does not deploy brokers yet",
            s.observedGeneration));
    s.conditions = conditions;
    return s;
  }

  private Condition condition(
      DisklessKafkaClusterStatus previous,
      String type,
      String status,
      String reason,
      String message,
      Long generation) {
    String since = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    if (previous != null && previous.conditions != null) {
      for (Condition c : previous.conditions) {
        if (type.equals(c.getType()) && status.equals(c.getStatus())) {
          since = c.getLastTransitionTime();
        }
      }
    }
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .withLastTransitionTime(since)
        .build();
  }

  /** True when {@code next} would change what is stored. */
  public static boolean differs(
      DisklessKafkaClusterStatus stored, DisklessKafkaClusterStatus next) {
    if (stored == null) {
      return true;
    }
    return !Objects.equals(stored.observedGeneration, next.observedGeneration)
        || !Objects.equals(stored.replicas, next.replicas)
        || !Objects.equals(stored.readyBrokers, next.readyBrokers)
        || !Objects.equals(stored.bootstrapServers, next.bootstrapServers)
        || !Objects.equals(stored.conditions, next.conditions);
  }
}
