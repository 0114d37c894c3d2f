package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When a scale-in may go on, from the Deployment as observed; and the request it measures against.
 */
class BrokerSamplerTest {

  private static Deployment deployment(
      int spec, long generation, long observed, int total, int updated, int available) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withGeneration(generation)
        .endMetadata()
        .withNewSpec()
        .withReplicas(spec)
        .endSpec()
        .withNewStatus()
        .withObservedGeneration(observed)
        .withReplicas(total)
        .withUpdatedReplicas(updated)
        .withAvailableReplicas(available)
        .endStatus()
        .build();
  }

  @Test
  void settledOnlyAtTheDecidedCountAllCurrentAndAvailable() {
    assertThat(BrokerSampler.settled(List.of(deployment(3, 2, 2, 3, 3, 3)), 3)).isTrue();
    // The decision has not reached the Deployment yet.
    assertThat(BrokerSampler.settled(List.of(deployment(4, 2, 2, 4, 4, 4)), 3)).isFalse();
    // The Deployment controller has not seen the new count.
    assertThat(BrokerSampler.settled(List.of(deployment(3, 3, 2, 4, 4, 4)), 3)).isFalse();
    // A removed broker's pod is still there (handing over), or one is not available.
    assertThat(BrokerSampler.settled(List.of(deployment(3, 2, 2, 4, 3, 3)), 3)).isFalse();
    assertThat(BrokerSampler.settled(List.of(deployment(3, 2, 2, 3, 3, 2)), 3)).isFalse();
    // A rollout in progress.
    assertThat(BrokerSampler.settled(List.of(deployment(3, 2, 2, 3, 2, 3)), 3)).isFalse();
    assertThat(BrokerSampler.settled(List.of(), 3)).isFalse();
  }

  @Test
  void withZonesEveryZoneDeploymentMustBeSettledAndTheSumDecided() {
    Deployment a = deployment(2, 2, 2, 2, 2, 2);
    Deployment b = deployment(1, 2, 2, 1, 1, 1);
    Deployment c = deployment(1, 2, 2, 1, 1, 1);
    assertThat(BrokerSampler.settled(List.of(a, b, c), 4)).isTrue();
    assertThat(BrokerSampler.settled(List.of(a, b, c), 3)).isFalse();
    // Zone c still removing a broker.
    assertThat(BrokerSampler.settled(List.of(a, b, deployment(1, 3, 3, 2, 1, 1)), 4)).isFalse();
    // The zones just changed: the old Deployment's brokers still run.
    assertThat(BrokerSampler.settled(List.of(deployment(3, 2, 2, 3, 3, 3), a, b, c), 4)).isFalse();
  }

  @Test
  void theRequestIsReadInCores() {
    DisklessKafkaCluster c = new DisklessKafkaCluster();
    c.setSpec(new DisklessKafkaClusterSpec());
    assertThat(BrokerSampler.requestCores(c)).isZero();
    c.getSpec().brokers.resources =
        new ResourceRequirementsBuilder().addToRequests("cpu", new Quantity("500m")).build();
    assertThat(BrokerSampler.requestCores(c)).isEqualTo(0.5);
    c.getSpec().brokers.resources =
        new ResourceRequirementsBuilder().addToRequests("cpu", new Quantity("2")).build();
    assertThat(BrokerSampler.requestCores(c)).isEqualTo(2.0);
  }
}
