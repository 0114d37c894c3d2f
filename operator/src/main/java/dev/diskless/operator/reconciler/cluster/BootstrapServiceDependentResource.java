package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The ClusterIP Service clients put in bootstrap.servers; any broker answers Metadata with the
 * address of every broker, so a client needs only this one name.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class BootstrapServiceDependentResource
    extends CRUDKubernetesDependentResource<Service, DisklessKafkaCluster> {

  public BootstrapServiceDependentResource() {
    super(Service.class);
  }

  @Override
  protected Service desired(DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return new ServiceBuilder()
        .withMetadata(ClusterNames.metadata(cluster, ClusterNames.bootstrap(cluster)))
        .withNewSpec()
        .withType("ClusterIP")
        .withSelector(ClusterNames.brokerSelector(cluster))
        .withPorts(HeadlessServiceDependentResource.kafkaPorts(cluster))
        .endSpec()
        .build();
  }
}
