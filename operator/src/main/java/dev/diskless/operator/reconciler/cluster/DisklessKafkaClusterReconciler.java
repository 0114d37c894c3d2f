package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import java.time.Clock;

/**
 * Reconciles a DisklessKafkaCluster: the workflow applies each owned object (server-side apply,
 * nothing written when nothing changed), then the status is computed from what was observed and
 * patched only if it differs. Owned: the brokers' ServiceAccount, settings ConfigMap and
 * Deployment, the bootstrap and headless Services, the PodDisruptionBudget and, for a volume WAL,
 * its claim. The bucket and the metadata database are checked on each reconcile (BucketReady,
 * MetadataReady).
 */
@Workflow(
    dependents = {
      @Dependent(type = ServiceAccountDependentResource.class, name = "service-account"),
      @Dependent(type = BootstrapServiceDependentResource.class, name = "bootstrap-service"),
      @Dependent(type = HeadlessServiceDependentResource.class, name = "headless-service"),
      @Dependent(type = BrokerDisruptionBudgetDependentResource.class, name = "disruption-budget"),
      @Dependent(type = BrokerConfigMapDependentResource.class, name = "config"),
      @Dependent(
          type = WalVolumeDependentResource.class,
          name = "wal-volume",
          reconcilePrecondition = WalVolumeDependentResource.IsVolumeWal.class),
      @Dependent(
          type = BrokerDeploymentDependentResource.class,
          name = "brokers",
          dependsOn = {"service-account", "config"})
    })
public class DisklessKafkaClusterReconciler implements Reconciler<DisklessKafkaCluster> {

  /** How often the external checks (bucket, metadata database) run without an event. */
  static final java.time.Duration RECHECK = java.time.Duration.ofSeconds(30);

  private final ClusterStatusFactory statuses = new ClusterStatusFactory(Clock.systemUTC());

  @Override
  public UpdateControl<DisklessKafkaCluster> reconcile(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    DisklessKafkaClusterStatus next =
        statuses.observed(
            cluster,
            context.getSecondaryResource(Deployment.class),
            MetadataCheck.check(context.getClient(), cluster),
            BucketCheck.check(context.getClient(), cluster));
    if (!ClusterStatusFactory.differs(cluster.getStatus(), next)) {
      // The bucket and the database are outside Kubernetes: nothing signals a change, so look
      // again later.
      return UpdateControl.<DisklessKafkaCluster>noUpdate().rescheduleAfter(RECHECK);
    }
    DisklessKafkaCluster patch = new DisklessKafkaCluster();
    // Name only, no resourceVersion: the status is computed afresh each time, so a concurrent
    // change of the spec must not turn this patch into a conflict.
    patch.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withName(cluster.getMetadata().getName())
            .withNamespace(cluster.getMetadata().getNamespace())
            .build());
    patch.setStatus(next);
    return UpdateControl.patchStatus(patch).rescheduleAfter(RECHECK);
  }
}
