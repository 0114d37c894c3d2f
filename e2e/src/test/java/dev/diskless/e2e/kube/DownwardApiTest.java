package dev.diskless.e2e.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

class DownwardApiTest {

  private static Pod pod(boolean withLabels) {
    var b =
        new PodBuilder()
            .withNewMetadata()
            .withName("orders-broker-1")
            .withNamespace("kafka")
            .withUid("u-1");
    if (withLabels) {
      b.addToLabels("topology.kubernetes.io/zone", "zone-b").addToLabels("app", "broker");
    }
    return b.endMetadata().withNewSpec().withNodeName("node-b").endSpec().build();
  }

  @Test
  void aLabelResolvesToItsValueAndAMissingOneToTheEmptyString() {
    DownwardApi api = new DownwardApi(pod(true), "node-b", "10.244.0.1", () -> "10.244.0.7");
    assertThat(api.field("metadata.labels['topology.kubernetes.io/zone']")).isEqualTo("zone-b");
    assertThat(api.field("metadata.labels[\"topology.kubernetes.io/zone\"]")).isEqualTo("zone-b");
    assertThat(api.field("metadata.labels['topology.kubernetes.io/region']")).isEmpty();
    assertThat(api.field("metadata.labels"))
        .isEqualTo("app=\"broker\"\ntopology.kubernetes.io/zone=\"zone-b\"\n");

    DownwardApi bare = new DownwardApi(pod(false), "node-b", "10.244.0.1", () -> null);
    assertThat(bare.field("metadata.labels['topology.kubernetes.io/zone']")).isEmpty();
    assertThat(bare.field("metadata.annotations['x']")).isEmpty();
    assertThat(bare.field("status.podIP")).isEmpty();
  }

  @Test
  void podFieldsComeFromThePodAndItsNode() {
    DownwardApi api = new DownwardApi(pod(true), "node-b", "10.244.0.1", () -> "10.244.0.7");
    assertThat(api.field("metadata.name")).isEqualTo("orders-broker-1");
    assertThat(api.field("metadata.namespace")).isEqualTo("kafka");
    assertThat(api.field("spec.nodeName")).isEqualTo("node-b");
    assertThat(api.field("status.podIP")).isEqualTo("10.244.0.7");
    assertThat(api.field("status.hostIP")).isEqualTo("10.244.0.1");
    assertThatThrownBy(() -> api.field("spec.containers[0].image"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
