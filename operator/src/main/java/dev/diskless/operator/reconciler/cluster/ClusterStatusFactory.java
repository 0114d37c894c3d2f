package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.AutoscalingStatus;
import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import dev.diskless.operator.crd.WalSpec;
import dev.diskless.operator.reconciler.cluster.autoscaling.ClusterAutoscaler;
import dev.diskless.operator.reconciler.cluster.autoscaling.CpuLoad;
import dev.diskless.operator.reconciler.cluster.autoscaling.CpuSource;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Computes a cluster's status from what was observed (the broker counts summed over the broker
 * Deployments, one per zone with zones), keeping each condition's lastTransitionTime unless its
 * status really changed, so that an unchanged cluster gets an equal status and no write.
 *
 * <p>Conditions: Ready (clients can use the cluster), Reconciling (the brokers do not all run the
 * current spec yet), Degraded (something needs a person: an unusable bucket or database, a lost WAL
 * volume, a stalled rollout, a failed reconcile), BucketReady, MetadataReady and WalReady.
 */
public final class ClusterStatusFactory {

  /** Longest message kept in a condition; API errors can be long. */
  static final int MAX_MESSAGE = 1024;

  private final Clock clock;

  public ClusterStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /**
   * What one reconcile observed, besides the cluster itself: the broker Deployments (one, one per
   * zone, and while the zones change the old ones too), the WAL claim, the two checks; {@code
   * autoscaler} is present when autoscaling is enabled.
   */
  public record Observed(
      List<Deployment> brokers,
      Optional<PersistentVolumeClaim> walVolume,
      MetadataCheck.Result metadata,
      BucketCheck.Result bucket,
      Optional<ClusterAutoscaler.Snapshot> autoscaler) {

    public Observed {
      brokers = List.copyOf(brokers);
    }

    public Observed(
        List<Deployment> brokers,
        Optional<PersistentVolumeClaim> walVolume,
        MetadataCheck.Result metadata,
        BucketCheck.Result bucket) {
      this(brokers, walVolume, metadata, bucket, Optional.empty());
    }
  }

  /** A condition before it gets its generation and transition time. */
  private record Verdict(boolean status, String reason, String message) {}

  /**
   * What the operator can say after its dependents were reconciled, from the owned objects as
   * observed (empty before the API server has them).
   */
  public DisklessKafkaClusterStatus observed(DisklessKafkaCluster cluster, Observed seen) {
    DisklessKafkaClusterStatus s = new DisklessKafkaClusterStatus();
    s.observedGeneration = cluster.getMetadata().getGeneration();
    // Every broker Deployment counts, also one no longer wanted that still runs brokers while
    // the zones change: the status says what runs.
    s.replicas = sum(seen.brokers(), DeploymentStatus::getReplicas);
    s.readyBrokers = sum(seen.brokers(), DeploymentStatus::getReadyReplicas);
    s.selector = selector(cluster);
    s.autoscaling = seen.autoscaler().map(a -> autoscaling(cluster.getStatus(), a)).orElse(null);
    s.bootstrapServers =
        ClusterNames.bootstrap(cluster)
            + "."
            + cluster.getMetadata().getNamespace()
            + ".svc:"
            + ClusterListeners.of(cluster).first().port();
    int desired =
        s.autoscaling != null ? s.autoscaling.desiredBrokers : cluster.getSpec().brokers.replicas;
    BucketCheck.Result bucket = seen.bucket();
    MetadataCheck.Result metadata = seen.metadata();
    Verdict wal = wal(cluster, seen.walVolume(), bucket);

    Verdict ready;
    if (!bucket.ready()) {
      ready = new Verdict(false, "BucketNotReady", bucket.message());
    } else if (!metadata.reachable()) {
      ready = new Verdict(false, "MetadataNotReady", metadata.message());
    } else if (!wal.status()) {
      ready = new Verdict(false, "WalNotReady", wal.message());
    } else if (s.readyBrokers >= desired) {
      ready = new Verdict(true, "BrokersReady", s.readyBrokers + "/" + desired + " brokers ready");
    } else {
      ready =
          new Verdict(false, "BrokersStarting", s.readyBrokers + "/" + desired + " brokers ready");
    }

    Verdict degraded = degraded(seen, bucket, metadata, wal);
    List<Condition> conditions = new ArrayList<>();
    Long gen = s.observedGeneration;
    DisklessKafkaClusterStatus previous = cluster.getStatus();
    conditions.add(condition(previous, "Ready", ready, gen));
    conditions.add(
        condition(previous, "Reconciling", rollout(cluster, seen.brokers(), desired), gen));
    conditions.add(condition(previous, "Degraded", degraded, gen));
    conditions.add(
        condition(
            previous,
            "BucketReady",
            new Verdict(bucket.ready(), bucket.reason(), bucket.message()),
            gen));
    conditions.add(
        condition(
            previous,
            "MetadataReady",
            new Verdict(metadata.reachable(), metadata.reason(), metadata.message()),
            gen));
    conditions.add(condition(previous, "WalReady", wal, gen));
    s.conditions = conditions;
    return s;
  }

  /**
   * The status after a reconcile failed: what was last observed stays, Degraded says why this
   * reconcile failed (the API server refused an object, ...). The next successful reconcile
   * computes everything afresh.
   */
  public DisklessKafkaClusterStatus failed(DisklessKafkaCluster cluster, String message) {
    DisklessKafkaClusterStatus previous = cluster.getStatus();
    DisklessKafkaClusterStatus s = new DisklessKafkaClusterStatus();
    List<Condition> conditions = new ArrayList<>();
    Long gen = cluster.getMetadata().getGeneration();
    if (previous != null) {
      s.observedGeneration = previous.observedGeneration;
      s.replicas = previous.replicas;
      s.readyBrokers = previous.readyBrokers;
      s.bootstrapServers = previous.bootstrapServers;
      s.selector = previous.selector;
      s.autoscaling = previous.autoscaling;
      if (previous.conditions != null) {
        for (Condition c : previous.conditions) {
          if (!"Degraded".equals(c.getType()) && !"Reconciling".equals(c.getType())) {
            conditions.add(c);
          }
        }
      }
    }
    conditions.add(
        condition(
            previous,
            "Reconciling",
            new Verdict(true, "ReconcileFailed", "the last reconcile failed; retrying"),
            gen));
    conditions.add(
        condition(previous, "Degraded", new Verdict(true, "ReconcileFailed", message), gen));
    s.conditions = conditions;
    return s;
  }

  /** The broker pods' label selector, as the /scale subresource serves it. */
  static String selector(DisklessKafkaCluster cluster) {
    return ClusterNames.brokerSelector(cluster).entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }

  /**
   * The autoscaler's report: utilization in whole percent (finer would rewrite the status on every
   * sample), its count, and its last change, kept from the stored status across restarts.
   */
  private static AutoscalingStatus autoscaling(
      DisklessKafkaClusterStatus previous, ClusterAutoscaler.Snapshot a) {
    AutoscalingStatus out = new AutoscalingStatus();
    out.currentCpuUtilization =
        a.load().map(CpuLoad::utilizationPercent).map(u -> (int) Math.round(u)).orElse(null);
    out.cpuSource = a.cpuSource().map(CpuSource::label).orElse(null);
    out.desiredBrokers = a.desiredBrokers();
    if (a.lastScale().isPresent()) {
      var last = a.lastScale().get();
      out.lastScaleTime = last.at().truncatedTo(ChronoUnit.SECONDS).toString();
      out.lastScaleDirection = last.decision().direction().label();
      out.lastScaleReason = last.decision().reason();
    } else if (previous != null && previous.autoscaling != null) {
      out.lastScaleTime = previous.autoscaling.lastScaleTime;
      out.lastScaleDirection = previous.autoscaling.lastScaleDirection;
      out.lastScaleReason = previous.autoscaling.lastScaleReason;
    }
    return out;
  }

  /**
   * Whether every broker runs the current spec, from the Deployment controller's own counts summed
   * over the wanted Deployments; brokers of a Deployment no longer wanted count as old.
   */
  private static Verdict rollout(
      DisklessKafkaCluster cluster, List<Deployment> brokers, int desired) {
    if (brokers.isEmpty()) {
      return new Verdict(true, "Creating", "the brokers' Deployment does not exist yet");
    }
    Map<String, Deployment> byName = new HashMap<>();
    brokers.forEach(d -> byName.put(d.getMetadata().getName(), d));
    int updated = 0;
    int available = 0;
    for (String name : BrokerDeploymentDependentResource.replicasByName(cluster).keySet()) {
      Deployment d = byName.get(name);
      if (d == null) {
        return new Verdict(true, "Creating", "Deployment " + name + " does not exist yet");
      }
      DeploymentStatus st = d.getStatus();
      Long generation = d.getMetadata().getGeneration();
      if (st == null
          || st.getObservedGeneration() == null
          || (generation != null && st.getObservedGeneration() < generation)) {
        return new Verdict(
            true,
            "RolloutPending",
            "the Deployment controller has not seen the brokers' spec yet (" + name + ")");
      }
      updated += count(st.getUpdatedReplicas());
      available += count(st.getAvailableReplicas());
    }
    int total = sum(brokers, DeploymentStatus::getReplicas);
    if (updated < desired || total > updated || available < desired) {
      return new Verdict(
          true,
          "RollingOut",
          updated
              + "/"
              + desired
              + " brokers run the current spec, "
              + available
              + " available, "
              + (total - updated)
              + " old");
    }
    return new Verdict(
        false, "Reconciled", desired + "/" + desired + " brokers run the current spec");
  }

  private static int sum(List<Deployment> deployments, Function<DeploymentStatus, Integer> field) {
    int n = 0;
    for (Deployment d : deployments) {
      if (d.getStatus() != null) {
        n += count(field.apply(d.getStatus()));
      }
    }
    return n;
  }

  /** The first thing that needs a person, if any. */
  private static Verdict degraded(
      Observed seen, BucketCheck.Result bucket, MetadataCheck.Result metadata, Verdict wal) {
    if (!bucket.ready()) {
      return new Verdict(true, "BucketNotReady", bucket.message());
    }
    if (!metadata.reachable()) {
      return new Verdict(true, "MetadataNotReady", metadata.message());
    }
    if ("VolumeLost".equals(wal.reason())) {
      return new Verdict(true, "WalVolumeLost", wal.message());
    }
    List<DeploymentCondition> dc =
        seen.brokers().stream()
            .map(Deployment::getStatus)
            .filter(Objects::nonNull)
            .map(DeploymentStatus::getConditions)
            .filter(Objects::nonNull)
            .flatMap(List::stream)
            .toList();
    for (DeploymentCondition c : dc) {
      if ("ReplicaFailure".equals(c.getType()) && "True".equals(c.getStatus())) {
        return new Verdict(true, "BrokerPodsNotCreated", c.getMessage());
      }
      if ("Progressing".equals(c.getType())
          && "False".equals(c.getStatus())
          && "ProgressDeadlineExceeded".equals(c.getReason())) {
        return new Verdict(true, "RolloutStalled", c.getMessage());
      }
    }
    return new Verdict(false, "AsExpected", "nothing needs attention");
  }

  /** An object WAL is ready with the bucket; a volume WAL once its claim is bound to a volume. */
  private static Verdict wal(
      DisklessKafkaCluster cluster,
      Optional<PersistentVolumeClaim> claim,
      BucketCheck.Result bucket) {
    WalSpec wal = cluster.getSpec().wal;
    if (wal.type != WalSpec.Type.VOLUME) {
      if (!bucket.ready()) {
        return new Verdict(false, "BucketNotReady", bucket.message());
      }
      return new Verdict(
          true,
          "ObjectWal",
          "WAL objects go to bucket "
              + cluster.getSpec().objectStore.bucket
              + " under "
              + ClusterNames.keyPrefix(cluster)
              + "wal/");
    }
    String name = ClusterNames.walVolume(cluster);
    if (claim.isEmpty()) {
      return new Verdict(false, "VolumeNotCreated", "claim " + name + " does not exist yet");
    }
    PersistentVolumeClaim pvc = claim.get();
    String phase = pvc.getStatus() == null ? null : pvc.getStatus().getPhase();
    String volume = pvc.getSpec() == null ? null : pvc.getSpec().getVolumeName();
    if ("Bound".equals(phase)) {
      return new Verdict(true, "VolumeBound", "claim " + name + " is bound to volume " + volume);
    }
    if ("Lost".equals(phase)) {
      return new Verdict(
          false,
          "VolumeLost",
          "claim " + name + " lost its volume " + volume + "; brokers cannot write their WAL");
    }
    return new Verdict(
        false,
        "VolumePending",
        "claim "
            + name
            + " is "
            + (phase == null ? "Pending" : phase)
            + ": waiting for a ReadWriteMany volume of storage class "
            + (wal.volume.storageClassName == null ? "(default)" : wal.volume.storageClassName));
  }

  private Condition condition(
      DisklessKafkaClusterStatus previous, String type, Verdict verdict, Long generation) {
    String status = verdict.status() ? "True" : "False";
    String since = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    if (previous != null && previous.conditions != null) {
      for (Condition c : previous.conditions) {
        if (type.equals(c.getType()) && status.equals(c.getStatus())) {
          since = c.getLastTransitionTime();
        }
      }
    }
    String message = verdict.message() == null ? "" : verdict.message();
    if (message.length() > MAX_MESSAGE) {
      message = message.substring(0, MAX_MESSAGE - 3) + "...";
    }
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(verdict.reason())
        .withMessage(message)
        .withObservedGeneration(generation)
        .withLastTransitionTime(since)
        .build();
  }

  private static int count(Integer n) {
    return n == null ? 0 : n;
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
        || !Objects.equals(stored.selector, next.selector)
        || !Objects.equals(stored.autoscaling, next.autoscaling)
        || !Objects.equals(stored.conditions, next.conditions);
  }
}
