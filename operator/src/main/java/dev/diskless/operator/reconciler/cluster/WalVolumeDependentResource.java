package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.WalSpec;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import java.util.Map;

/**
 * The shared ReadWriteMany volume of a volume WAL, mounted by every broker: each writes its own
 * directory and a new owner replays the directories of the broker it took over from.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class WalVolumeDependentResource
    extends CRUDKubernetesDependentResource<PersistentVolumeClaim, DisklessKafkaCluster> {

  public WalVolumeDependentResource() {
    super(PersistentVolumeClaim.class);
  }

  @Override
  protected PersistentVolumeClaim desired(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    WalSpec.VolumeSpec volume = cluster.getSpec().wal.volume;
    return new PersistentVolumeClaimBuilder()
        .withMetadata(ClusterNames.metadata(cluster, ClusterNames.walVolume(cluster)))
        .withNewSpec()
        .withAccessModes("ReadWriteMany")
        .withStorageClassName(volume.storageClassName)
        .withNewResources()
        .withRequests(Map.of("storage", new Quantity(volume.size.toString())))
        .endResources()
        .endSpec()
        .build();
  }

  /** Only for wal.type volume. */
  public static class IsVolumeWal
      implements Condition<PersistentVolumeClaim, DisklessKafkaCluster> {
    @Override
    public boolean isMet(
        DependentResource<PersistentVolumeClaim, DisklessKafkaCluster> dependentResource,
        DisklessKafkaCluster cluster,
        Context<DisklessKafkaCluster> context) {
      return cluster.getSpec().wal.type == WalSpec.Type.VOLUME;
    }
  }
}
