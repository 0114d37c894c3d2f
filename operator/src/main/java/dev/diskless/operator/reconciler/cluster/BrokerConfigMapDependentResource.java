package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** The brokers' settings file, rendered from the spec by {@link BrokerSettingsRenderer}. */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class BrokerConfigMapDependentResource
    extends CRUDKubernetesDependentResource<ConfigMap, DisklessKafkaCluster> {

  public static final String FILE = "broker.properties";

  public BrokerConfigMapDependentResource() {
    super(ConfigMap.class);
  }

  @Override
  protected ConfigMap desired(DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return new ConfigMapBuilder()
        .withMetadata(ClusterNames.metadata(cluster, ClusterNames.config(cluster)))
        .addToData(FILE, BrokerSettingsRenderer.settings(cluster).render())
        .build();
  }
}
