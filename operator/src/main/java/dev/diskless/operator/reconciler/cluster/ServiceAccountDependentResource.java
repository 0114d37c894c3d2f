package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import java.util.Map;
import java.util.TreeMap;

/**
 * The brokers' ServiceAccount: their identity for workload-identity access to the bucket. The cloud
 * role is bound to it by annotation: those of {@code spec.brokers.serviceAccount.annotations}, or
 * ones added outside the operator (server-side apply leaves fields it does not own alone). Brokers
 * never call the Kubernetes API, so its token is not mounted.
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
    ObjectMeta metadata = ClusterNames.metadata(cluster, ClusterNames.brokers(cluster));
    Map<String, String> annotations = cluster.getSpec().brokers.serviceAccount.annotations;
    if (!annotations.isEmpty()) {
      metadata.setAnnotations(new TreeMap<>(annotations));
    }
    return new ServiceAccountBuilder()
        .withMetadata(metadata)
        .withAutomountServiceAccountToken(false)
        .build();
  }
}
