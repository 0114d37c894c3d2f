package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterSpec;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import dev.diskless.operator.crd.MetadataSpec;
import dev.diskless.operator.crd.ObjectStoreSpec;
import dev.diskless.operator.crd.WalSpec;
import dev.diskless.operator.reconciler.cluster.autoscaling.ClusterAutoscaler;
import dev.diskless.operator.reconciler.cluster.autoscaling.CpuLoad;
import dev.diskless.operator.reconciler.cluster.autoscaling.ScaleDecision;
import dev.diskless.operator.reconciler.cluster.autoscaling.ScaleDirection;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How observations become conditions, one case per rule. */
class ClusterStatusFactoryTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final BucketCheck.Result BUCKET_OK =
      new BucketCheck.Result(true, "BucketAvailable", "bucket b is reachable");
  private static final MetadataCheck.Result DB_OK =
      new MetadataCheck.Result(true, "Connected", "ok");

  private final ClusterStatusFactory at0 = factory(T0);

  private static ClusterStatusFactory factory(Instant t) {
    return new ClusterStatusFactory(Clock.fixed(t, ZoneOffset.UTC));
  }

  private static DisklessKafkaCluster cluster(WalSpec.Type wal) {
    DisklessKafkaCluster c = new DisklessKafkaCluster();
    c.setMetadata(
        new ObjectMetaBuilder().withName("orders").withNamespace("ns").withGeneration(2L).build());
    DisklessKafkaClusterSpec spec = new DisklessKafkaClusterSpec();
    spec.objectStore = new ObjectStoreSpec();
    spec.objectStore.bucket = "b";
    spec.metadata = new MetadataSpec();
    spec.wal.type = wal;
    if (wal == WalSpec.Type.VOLUME) {
      spec.wal.volume = new WalSpec.VolumeSpec();
      spec.wal.volume.storageClassName = "nfs";
      spec.wal.volume.size = new Quantity("10Gi");
    }
    c.setSpec(spec);
    return c;
  }

  /** A Deployment whose controller reports these counts for the desired 3 brokers. */
  private static Deployment deployment(int total, int updated, int available, int ready) {
    return deployment("orders-broker", total, updated, available, ready);
  }

  private static Deployment deployment(
      String name, int total, int updated, int available, int ready) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name)
        .withGeneration(5L)
        .endMetadata()
        .withNewStatus()
        .withObservedGeneration(5L)
        .withReplicas(total)
        .withUpdatedReplicas(updated)
        .withAvailableReplicas(available)
        .withReadyReplicas(ready)
        .endStatus()
        .build();
  }

  private static ClusterStatusFactory.Observed seen(
      Deployment d, PersistentVolumeClaim pvc, BucketCheck.Result bucket) {
    return new ClusterStatusFactory.Observed(
        d == null ? List.of() : List.of(d), Optional.ofNullable(pvc), DB_OK, bucket);
  }

  private static Condition get(DisklessKafkaClusterStatus s, String type) {
    return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  @Test
  void withZonesTheCountsAreSummedOverTheZoneDeployments() {
    DisklessKafkaCluster c = cluster(WalSpec.Type.OBJECT);
    c.getSpec().brokers.replicas = 4;
    c.getSpec().brokers.zones = List.of("a", "b", "c");
    Deployment a = deployment("orders-broker-a", 2, 2, 2, 2);
    Deployment b = deployment("orders-broker-b", 1, 1, 1, 1);
    Deployment cz = deployment("orders-broker-c", 1, 1, 0, 0);
    DisklessKafkaClusterStatus s =
        at0.observed(
            c,
            new ClusterStatusFactory.Observed(
                List.of(a, b, cz), Optional.empty(), DB_OK, BUCKET_OK));
    assertThat(s.replicas).isEqualTo(4);
    assertThat(s.readyBrokers).isEqualTo(3);
    assertThat(get(s, "Ready").getMessage()).isEqualTo("3/4 brokers ready");
    assertThat(get(s, "Reconciling").getMessage())
        .isEqualTo("4/4 brokers run the current spec, 3 available, 0 old");

    // A zone Deployment missing: still creating.
    s =
        at0.observed(
            c,
            new ClusterStatusFactory.Observed(List.of(a, b), Optional.empty(), DB_OK, BUCKET_OK));
    assertThat(get(s, "Reconciling").getReason()).isEqualTo("Creating");
    assertThat(get(s, "Reconciling").getMessage())
        .isEqualTo("Deployment orders-broker-c does not exist yet");

    // Switching to zones: the old Deployment's brokers still run, and count as old.
    Deployment old = deployment("orders-broker", 3, 3, 3, 3);
    cz = deployment("orders-broker-c", 1, 1, 1, 1);
    s =
        at0.observed(
            c,
            new ClusterStatusFactory.Observed(
                List.of(old, a, b, cz), Optional.empty(), DB_OK, BUCKET_OK));
    assertThat(s.replicas).isEqualTo(7);
    assertThat(get(s, "Ready").getStatus()).isEqualTo("True");
    assertThat(get(s, "Reconciling").getReason()).isEqualTo("RollingOut");
    assertThat(get(s, "Reconciling").getMessage())
        .isEqualTo("4/4 brokers run the current spec, 4 available, 3 old");
  }

  @Test
  void aRolledOutClusterIsReadyAndNeitherReconcilingNorDegraded() {
    DisklessKafkaClusterStatus s =
        at0.observed(cluster(WalSpec.Type.OBJECT), seen(deployment(3, 3, 3, 3), null, BUCKET_OK));
    assertThat(get(s, "Ready").getStatus()).isEqualTo("True");
    assertThat(get(s, "Reconciling").getStatus()).isEqualTo("False");
    assertThat(get(s, "Reconciling").getReason()).isEqualTo("Reconciled");
    assertThat(get(s, "Degraded").getStatus()).isEqualTo("False");
    assertThat(get(s, "WalReady").getReason()).isEqualTo("ObjectWal");
    assertThat(get(s, "WalReady").getMessage()).contains("bucket b under ns/orders/wal/");
    assertThat(s.conditions)
        .extracting(Condition::getType)
        .containsExactly(
            "Ready", "Reconciling", "Degraded", "BucketReady", "MetadataReady", "WalReady");
    assertThat(s.conditions).allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(2));
  }

  @Test
  void aRollingUpdateIsReconcilingUntilOldBrokersAreGone() {
    // Surge: a fourth pod with the new spec, three old ones still there.
    DisklessKafkaClusterStatus s =
        at0.observed(cluster(WalSpec.Type.OBJECT), seen(deployment(4, 1, 3, 3), null, BUCKET_OK));
    assertThat(get(s, "Reconciling").getStatus()).isEqualTo("True");
    assertThat(get(s, "Reconciling").getReason()).isEqualTo("RollingOut");
    assertThat(get(s, "Reconciling").getMessage())
        .isEqualTo("1/3 brokers run the current spec, 3 available, 3 old");
    // Clients are served throughout.
    assertThat(get(s, "Ready").getStatus()).isEqualTo("True");
    assertThat(get(s, "Degraded").getStatus()).isEqualTo("False");
  }

  @Test
  void aDeploymentNotYetSeenByItsControllerIsPending() {
    Deployment d = deployment(3, 3, 3, 3);
    d.getMetadata().setGeneration(6L);
    DisklessKafkaClusterStatus s =
        at0.observed(cluster(WalSpec.Type.OBJECT), seen(d, null, BUCKET_OK));
    assertThat(get(s, "Reconciling").getReason()).isEqualTo("RolloutPending");
    assertThat(
            get(
                    at0.observed(cluster(WalSpec.Type.OBJECT), seen(null, null, BUCKET_OK)),
                    "Reconciling")
                .getReason())
        .isEqualTo("Creating");
  }

  @Test
  void aStalledRolloutOrPodsThatCannotBeCreatedAreDegraded() {
    Deployment stalled = deployment(4, 1, 3, 3);
    stalled
        .getStatus()
        .getConditions()
        .add(
            new DeploymentConditionBuilder()
                .withType("Progressing")
                .withStatus("False")
                .withReason("ProgressDeadlineExceeded")
                .withMessage("ReplicaSet \"orders-broker-x\" has timed out progressing.")
                .build());
    Condition degraded =
        get(at0.observed(cluster(WalSpec.Type.OBJECT), seen(stalled, null, BUCKET_OK)), "Degraded");
    assertThat(degraded.getStatus()).isEqualTo("True");
    assertThat(degraded.getReason()).isEqualTo("RolloutStalled");
    assertThat(degraded.getMessage()).contains("timed out progressing");

    Deployment quota = deployment(0, 0, 0, 0);
    quota
        .getStatus()
        .getConditions()
        .add(
            new DeploymentConditionBuilder()
                .withType("ReplicaFailure")
                .withStatus("True")
                .withReason("FailedCreate")
                .withMessage("pods \"orders-broker-1\" is forbidden: exceeded quota")
                .build());
    degraded =
        get(at0.observed(cluster(WalSpec.Type.OBJECT), seen(quota, null, BUCKET_OK)), "Degraded");
    assertThat(degraded.getReason()).isEqualTo("BrokerPodsNotCreated");
    assertThat(degraded.getMessage()).contains("exceeded quota");
  }

  @Test
  void anUnusableBucketIsDegradedAndTakesTheObjectWalDown() {
    BucketCheck.Result denied =
        new BucketCheck.Result(false, "AccessDenied", "bucket b: Access Denied");
    DisklessKafkaClusterStatus s =
        at0.observed(cluster(WalSpec.Type.OBJECT), seen(deployment(3, 3, 3, 3), null, denied));
    assertThat(get(s, "Ready").getReason()).isEqualTo("BucketNotReady");
    assertThat(get(s, "Degraded").getReason()).isEqualTo("BucketNotReady");
    assertThat(get(s, "Degraded").getMessage()).isEqualTo("bucket b: Access Denied");
    assertThat(get(s, "WalReady").getStatus()).isEqualTo("False");
    assertThat(get(s, "BucketReady").getReason()).isEqualTo("AccessDenied");
  }

  @Test
  void aVolumeWalIsReadyOnceItsClaimIsBound() {
    DisklessKafkaCluster c = cluster(WalSpec.Type.VOLUME);
    DisklessKafkaClusterStatus none =
        at0.observed(c, seen(deployment(3, 3, 3, 3), null, BUCKET_OK));
    assertThat(get(none, "WalReady").getReason()).isEqualTo("VolumeNotCreated");

    DisklessKafkaClusterStatus pending =
        at0.observed(c, seen(deployment(3, 3, 3, 3), claim("Pending", null), BUCKET_OK));
    assertThat(get(pending, "WalReady").getStatus()).isEqualTo("False");
    assertThat(get(pending, "WalReady").getMessage()).contains("storage class nfs");
    assertThat(get(pending, "Ready").getReason()).isEqualTo("WalNotReady");
    assertThat(get(pending, "Degraded").getStatus()).isEqualTo("False");

    DisklessKafkaClusterStatus bound =
        at0.observed(c, seen(deployment(3, 3, 3, 3), claim("Bound", "pv-1"), BUCKET_OK));
    assertThat(get(bound, "WalReady").getStatus()).isEqualTo("True");
    assertThat(get(bound, "WalReady").getMessage())
        .isEqualTo("claim orders-wal is bound to volume pv-1");
    assertThat(get(bound, "Ready").getStatus()).isEqualTo("True");

    DisklessKafkaClusterStatus lost =
        at0.observed(c, seen(deployment(3, 3, 3, 3), claim("Lost", "pv-1"), BUCKET_OK));
    assertThat(get(lost, "Degraded").getReason()).isEqualTo("WalVolumeLost");
  }

  private static PersistentVolumeClaim claim(String phase, String volume) {
    return new PersistentVolumeClaimBuilder()
        .withNewMetadata()
        .withName("orders-wal")
        .endMetadata()
        .withNewSpec()
        .withVolumeName(volume)
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .endStatus()
        .build();
  }

  @Test
  void lastTransitionTimeMovesOnlyWhenAConditionChangesStatus() {
    DisklessKafkaCluster c = cluster(WalSpec.Type.OBJECT);
    c.setStatus(at0.observed(c, seen(deployment(3, 0, 0, 0), null, BUCKET_OK)));
    Instant later = T0.plusSeconds(60);
    DisklessKafkaClusterStatus same =
        factory(later).observed(c, seen(deployment(3, 0, 0, 0), null, BUCKET_OK));
    assertThat(ClusterStatusFactory.differs(c.getStatus(), same)).isFalse();

    // One broker became ready: the message of Ready changes, its status does not.
    DisklessKafkaClusterStatus one =
        factory(later).observed(c, seen(deployment(3, 3, 1, 1), null, BUCKET_OK));
    assertThat(ClusterStatusFactory.differs(c.getStatus(), one)).isTrue();
    assertThat(get(one, "Ready").getLastTransitionTime()).isEqualTo(T0.toString());

    DisklessKafkaClusterStatus all =
        factory(later).observed(c, seen(deployment(3, 3, 3, 3), null, BUCKET_OK));
    assertThat(get(all, "Ready").getLastTransitionTime()).isEqualTo(later.toString());
    assertThat(get(all, "Reconciling").getLastTransitionTime()).isEqualTo(later.toString());
    assertThat(get(all, "BucketReady").getLastTransitionTime()).isEqualTo(T0.toString());
  }

  @Test
  void aFailedReconcileIsDegradedAndKeepsWhatWasObserved() {
    DisklessKafkaCluster c = cluster(WalSpec.Type.OBJECT);
    c.setStatus(at0.observed(c, seen(deployment(3, 3, 3, 3), null, BUCKET_OK)));
    DisklessKafkaClusterStatus failed =
        factory(T0.plusSeconds(5)).failed(c, "brokers: " + "x".repeat(5000));
    assertThat(get(failed, "Degraded").getStatus()).isEqualTo("True");
    assertThat(get(failed, "Degraded").getReason()).isEqualTo("ReconcileFailed");
    assertThat(get(failed, "Degraded").getMessage())
        .hasSize(ClusterStatusFactory.MAX_MESSAGE)
        .endsWith("...");
    assertThat(get(failed, "Reconciling").getStatus()).isEqualTo("True");
    assertThat(get(failed, "BucketReady")).isEqualTo(get(c.getStatus(), "BucketReady"));
    assertThat(failed.readyBrokers).isEqualTo(3);
  }

  @Test
  void theSelectorIsTheBrokerPodsLabelsForTheScaleSubresource() {
    DisklessKafkaClusterStatus s =
        at0.observed(cluster(WalSpec.Type.OBJECT), seen(deployment(3, 3, 3, 3), null, BUCKET_OK));
    assertThat(s.selector)
        .isEqualTo(
            "app.kubernetes.io/component=broker,app.kubernetes.io/instance=orders,"
                + "app.kubernetes.io/name=diskless-kafka");
    assertThat(s.replicas).isEqualTo(3);
    assertThat(s.autoscaling).isNull();
  }

  private static ClusterStatusFactory.Observed autoscaled(
      Deployment d, ClusterAutoscaler.Snapshot snapshot) {
    return new ClusterStatusFactory.Observed(
        List.of(d), Optional.empty(), DB_OK, BUCKET_OK, Optional.of(snapshot));
  }

  @Test
  void theAutoscalersDecisionIsReportedAndDrivesReadiness() {
    DisklessKafkaCluster c = cluster(WalSpec.Type.OBJECT);
    ScaleDecision up = new ScaleDecision(5, ScaleDirection.UP, "CPU 100% ...: 3 -> 5 brokers");
    Instant when = Instant.parse("2026-01-01T00:00:07.345Z");
    DisklessKafkaClusterStatus s =
        at0.observed(
            c,
            autoscaled(
                deployment(3, 3, 3, 3),
                new ClusterAutoscaler.Snapshot(
                    Optional.of(new CpuLoad(3, 99.6)),
                    5,
                    Optional.of(new ClusterAutoscaler.Scaled(when, up)))));
    assertThat(s.autoscaling.currentCpuUtilization).isEqualTo(100);
    assertThat(s.autoscaling.desiredBrokers).isEqualTo(5);
    assertThat(s.autoscaling.lastScaleTime).isEqualTo("2026-01-01T00:00:07Z");
    assertThat(s.autoscaling.lastScaleDirection).isEqualTo("Up");
    assertThat(s.autoscaling.lastScaleReason).isEqualTo("CPU 100% ...: 3 -> 5 brokers");
    // Ready counts against the autoscaler's count, not the spec's 3.
    assertThat(get(s, "Ready").getMessage()).isEqualTo("3/5 brokers ready");
    assertThat(get(s, "Reconciling").getStatus()).isEqualTo("True");
  }

  @Test
  void anUnchangedAutoscalerKeepsItsLastScaleAcrossARestartAndWritesNothing() {
    DisklessKafkaCluster c = cluster(WalSpec.Type.OBJECT);
    ScaleDecision up = new ScaleDecision(4, ScaleDirection.UP, "3 brokers is below minBrokers 4");
    c.setStatus(
        at0.observed(
            c,
            autoscaled(
                deployment(4, 4, 4, 4),
                new ClusterAutoscaler.Snapshot(
                    Optional.empty(), 4, Optional.of(new ClusterAutoscaler.Scaled(T0, up))))));
    // A restarted operator has no decision of its own yet: the stored one stays.
    DisklessKafkaClusterStatus again =
        factory(T0.plusSeconds(60))
            .observed(
                c,
                autoscaled(
                    deployment(4, 4, 4, 4),
                    new ClusterAutoscaler.Snapshot(Optional.empty(), 4, Optional.empty())));
    assertThat(again.autoscaling.lastScaleReason).isEqualTo("3 brokers is below minBrokers 4");
    assertThat(ClusterStatusFactory.differs(c.getStatus(), again)).isFalse();
    // A new utilization is a change worth writing.
    DisklessKafkaClusterStatus loaded =
        factory(T0.plusSeconds(60))
            .observed(
                c,
                autoscaled(
                    deployment(4, 4, 4, 4),
                    new ClusterAutoscaler.Snapshot(
                        Optional.of(new CpuLoad(4, 40)), 4, Optional.empty())));
    assertThat(ClusterStatusFactory.differs(c.getStatus(), loaded)).isTrue();
  }
}
