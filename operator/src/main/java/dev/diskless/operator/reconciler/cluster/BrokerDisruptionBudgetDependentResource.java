package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * At most one broker voluntarily evicted at a time: an evicted broker hands its partitions over
 * before it exits, and one hand-over at a time keeps the others' load bounded.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class BrokerDisruptionBudgetDependentResource
    extends CRUDKubernetesDependentResource<PodDisruptionBudget, DisklessKafkaCluster> {

  public BrokerDisruptionBudgetDependentResource() {
    super(PodDisruptionBudget.class);
  }

  @Override
  protected PodDisruptionBudget desired(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    return new PodDisruptionBudgetBuilder()
        .withMetadata(ClusterNames.metadata(cluster, ClusterNames.brokers(cluster)))
        .withNewSpec()
        .withMaxUnavailable(new IntOrString(1))
        .withNewSelector()
        .withMatchLabels(ClusterNames.brokerSelector(cluster))
        .endSelector()
        .endSpec()
        .build();
  }
}
