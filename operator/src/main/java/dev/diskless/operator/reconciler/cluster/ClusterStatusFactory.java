package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Computes a cluster's status from what was observed, keeping each condition's lastTransitionTime
 * unless its status really changed, so that an unchanged cluster gets an equal status and no write.
 */
public final class ClusterStatusFactory {

  private final Clock clock;

  public ClusterStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /**
   * What the operator can say after its dependents were reconciled, from the brokers' Deployment as
   * observed (empty before the API server has it).
   */
  public DisklessKafkaClusterStatus observed(
      DisklessKafkaCluster cluster,
      Optional<Deployment> brokers,
      MetadataCheck.Result metadata,
      BucketCheck.Result bucket) {
    DisklessKafkaClusterStatus previous = cluster.getStatus();
    DisklessKafkaClusterStatus s = new DisklessKafkaClusterStatus();
    s.observedGeneration = cluster.getMetadata().getGeneration();
    DeploymentStatus observed = brokers.map(Deployment::getStatus).orElse(null);
    s.replicas = observed == null || observed.getReplicas() == null ? 0 : observed.getReplicas();
    s.readyBrokers =
        observed == null || observed.getReadyReplicas() == null ? 0 : observed.getReadyReplicas();
    s.bootstrapServers =
        ClusterNames.bootstrap(cluster)
            + "."
            + cluster.getMetadata().getNamespace()
            + ".svc:"
            + cluster.getSpec().listeners.kafkaPort;
    int desired = cluster.getSpec().brokers.replicas;
    boolean brokersReady = s.readyBrokers >= desired;
    List<Condition> conditions = new ArrayList<>();
    String readyReason;
    String readyMessage;
    if (!bucket.ready()) {
      readyReason = "BucketNotReady";
      readyMessage = bucket.message();
    } else if (!metadata.reachable()) {
      readyReason = "MetadataNotReady";
      readyMessage = metadata.message();
    } else {
      readyReason = brokersReady ? "BrokersReady" : "BrokersStarting";
      readyMessage = s.readyBrokers + "/" + desired + " brokers ready";
    }
    conditions.add(
        condition(
            previous,
            "Ready",
            brokersReady && metadata.reachable() && bucket.ready() ? "True" : "False",
            readyReason,
            readyMessage,
            s.observedGeneration));
    conditions.add(
        condition(
            previous,
            "BucketReady",
            bucket.ready() ? "True" : "False",
            bucket.reason(),
            bucket.message(),
            s.observedGeneration));
    conditions.add(
        condition(
            previous,
            "MetadataReady",
            metadata.reachable() ? "True" : "False",
            metadata.reason(),
            metadata.message(),
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
