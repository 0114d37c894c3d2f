package dev.diskless.operator.reconciler.cluster.autoscaling;

import dev.diskless.operator.crd.AutoscalingSpec;
import dev.diskless.operator.crd.DisklessKafkaCluster;

/**
 * How many brokers the broker Deployments run together (split over the zones by {@code
 * BrokerZones.split} when zones are listed): {@code spec.brokers.replicas} (which the /scale
 * subresource sets), or with autoscaling on the autoscaler's count from the status, never written
 * to the spec, so a GitOps tool sees no drift. Before the autoscaler has decided, the spec's count
 * within the bounds.
 */
public final class BrokerCount {

  private BrokerCount() {}

  public static int desired(DisklessKafkaCluster cluster) {
    AutoscalingSpec autoscaling = cluster.getSpec().autoscaling;
    int replicas = cluster.getSpec().brokers.replicas;
    if (autoscaling == null || !autoscaling.enabled) {
      return replicas;
    }
    var status = cluster.getStatus();
    if (status != null && status.autoscaling != null && status.autoscaling.desiredBrokers != null) {
      return status.autoscaling.desiredBrokers;
    }
    return ScalingPolicy.of(autoscaling).clamp(replicas);
  }
}
