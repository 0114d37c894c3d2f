package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import java.time.Clock;

/**
 * Reconciles a DisklessKafkaCluster: the workflow applies each owned object (server-side apply,
 * nothing written when nothing changed), then the status is computed from what was observed and
 * patched only if it differs. This version owns the ServiceAccount, the two Services and the
 * PodDisruptionBudget; the broker Deployment, its ConfigMap, the bucket and the WAL volume follow.
 */
@Workflow(
    dependents = {
      @Dependent(type = ServiceAccountDependentResource.class, name = "service-account"),
      @Dependent(type = BootstrapServiceDependentResource.class, name = "bootstrap-service"),
      @Dependent(type = HeadlessServiceDependentResource.class, name = "headless-service"),
      @Dependent(type = BrokerDisruptionBudgetDependentResource.class, name = "disruption-budget")
    })
public class DisklessKafkaClusterReconciler implements Reconciler<DisklessKafkaCluster> {

  private final ClusterStatusFactory statuses = new ClusterStatusFactory(Clock.systemUTC());

  @Override
  public UpdateControl<DisklessKafkaCluster> reconcile(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    DisklessKafkaClusterStatus next = statuses.observed(cluster, 0);
    if (!ClusterStatusFactory.differs(cluster.getStatus(), next)) {
      return UpdateControl.noUpdate();
    }
    DisklessKafkaCluster patch = new DisklessKafkaCluster();
    patch.setMetadata(cluster.getMetadata());
    patch.setStatus(next);
    return UpdateControl.patchStatus(patch);
  }
}
