package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The headless Service over the broker pods: stable DNS for each pod, also for pods not ready yet,
 * so a starting broker's address resolves before it passes its readiness check.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class HeadlessServiceDependentResource
    extends CRUDKubernetesDependentResource<Service, DisklessKafkaCluster> {

  public HeadlessServiceDependentResource() {
    super(Service.class);
  }

  /** One Service port per Kafka listener, named after it and targeting the pod's port. */
  static java.util.List<io.fabric8.kubernetes.api.model.ServicePort> kafkaPorts(
      DisklessKafkaCluster cluster) {
    ClusterListeners listeners = ClusterListeners.of(cluster);
    return listeners.all().stream()
        .map(
            l ->
                new io.fabric8.kubernetes.api.model.ServicePortBuilder()
                    .withName(listeners.portName(l))
                    .withProtocol("TCP")
                    .withPort(l.port())
                    .withNewTargetPort(listeners.portName(l))
                    .build())
        .toList();
  }

  @Override
  protected Service desired(DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return new ServiceBuilder()
        .withMetadata(ClusterNames.metadata(cluster, ClusterNames.headless(cluster)))
        .withNewSpec()
        .withClusterIP("None")
        .withPublishNotReadyAddresses(true)
        .withSelector(ClusterNames.brokerSelector(cluster))
        .withPorts(kafkaPorts(cluster))
        .addNewPort()
        .withName("http")
        .withProtocol("TCP")
        .withPort(cluster.getSpec().listeners.httpPort)
        .withNewTargetPort("http")
        .endPort()
        .endSpec()
        .build();
  }
}
