package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The brokers' ServiceAccount: their identity for workload-identity access to the bucket (the cloud
 * role is bound to it by annotation, outside the operator). Brokers never call the Kubernetes API,
 * so its token is not mounted.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class ServiceAccountDependentResource
    extends CRUDKubernetesDependentResource<ServiceAccount, DisklessKafkaCluster> {

  public ServiceAccountDependentResource() {
    super(ServiceAccount.class);
  }

  @Override
  protected ServiceAccount desired(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return new ServiceAccountBuilder()
        .withMetadata(ClusterNames.metadata(cluster, ClusterNames.brokers(cluster)))
        .withAutomountServiceAccountToken(false)
        .build();
  }
}
