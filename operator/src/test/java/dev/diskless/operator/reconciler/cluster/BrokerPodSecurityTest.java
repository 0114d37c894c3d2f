package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The broker pod meets the restricted Pod Security profile by default, each security field the spec
 * sets wins over its default, and the pod and ServiceAccount carry the image pull Secrets and
 * annotations the spec names.
 */
class BrokerPodSecurityTest {

  @Test
  void byDefaultThePodMeetsTheRestrictedProfile() {
    var pod = deployment(cluster()).getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    SecurityContext broker = pod.getContainers().get(0).getSecurityContext();
    assertThat(broker.getAllowPrivilegeEscalation()).isFalse();
    assertThat(broker.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(broker.getCapabilities().getAdd()).isEmpty();
    assertThat(broker.getPrivileged()).isNull();
    assertThat(pod.getImagePullSecrets()).isEmpty();
  }

  @Test
  void aPodFieldSetInTheSpecWinsAndTheOthersKeepTheirDefault() {
    PodSecurityContext given =
        new PodSecurityContextBuilder().withFsGroup(10001L).withRunAsNonRoot(false).build();
    PodSecurityContext out = BrokerDeploymentDependentResource.podSecurity(given);
    assertThat(out.getFsGroup()).isEqualTo(10001L);
    assertThat(out.getRunAsNonRoot()).isFalse();
    assertThat(out.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    // The spec's object is not changed: it is the informer's cached copy of the cluster.
    assertThat(given.getSeccompProfile()).isNull();
  }

  @Test
  void aContainerFieldSetInTheSpecWinsAndTheOthersKeepTheirDefault() {
    SecurityContext given =
        new SecurityContextBuilder()
            .withReadOnlyRootFilesystem(true)
            .withNewCapabilities()
            .withAdd("NET_BIND_SERVICE")
            .withDrop("ALL")
            .endCapabilities()
            .build();
    SecurityContext out = BrokerDeploymentDependentResource.containerSecurity(given);
    assertThat(out.getReadOnlyRootFilesystem()).isTrue();
    assertThat(out.getAllowPrivilegeEscalation()).isFalse();
    assertThat(out.getCapabilities().getAdd()).containsExactly("NET_BIND_SERVICE");
    assertThat(out.getCapabilities().getDrop()).containsExactly("ALL");

    SecurityContext escalating =
        BrokerDeploymentDependentResource.containerSecurity(
            new SecurityContextBuilder().withAllowPrivilegeEscalation(true).build());
    assertThat(escalating.getAllowPrivilegeEscalation()).isTrue();
    assertThat(escalating.getCapabilities().getDrop()).containsExactly("ALL");
  }

  @Test
  void theSpecsPodSecurityReachesEveryZoneDeployment() {
    DisklessKafkaCluster c = cluster();
    c.getSpec().brokers.zones = List.of("a", "b");
    c.getSpec().brokers.template.securityContext =
        new PodSecurityContextBuilder().withFsGroup(2000L).build();
    c.getSpec().brokers.template.imagePullSecrets = List.of(new LocalObjectReference("regcred"));
    var all = new BrokerDeploymentDependentResource().desiredResources(c, null).values();
    assertThat(all).hasSize(2);
    for (Deployment d : all) {
      var pod = d.getSpec().getTemplate().getSpec();
      assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(2000L);
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(pod.getImagePullSecrets())
          .extracting(LocalObjectReference::getName)
          .containsExactly("regcred");
    }
  }

  @Test
  void theServiceAccountCarriesTheSpecsAnnotations() {
    DisklessKafkaCluster c = cluster();
    ServiceAccount plain = new ServiceAccountDependentResource().desired(c, null);
    assertThat(plain.getMetadata().getAnnotations()).isNullOrEmpty();

    c.getSpec()
        .brokers
        .serviceAccount
        .annotations
        .put("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/orders");
    ServiceAccount bound = new ServiceAccountDependentResource().desired(c, null);
    assertThat(bound.getMetadata().getAnnotations())
        .containsExactly(
            java.util.Map.entry(
                "eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/orders"));
    assertThat(bound.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/instance", "orders");
    assertThat(bound.getAutomountServiceAccountToken()).isFalse();
  }

  private static Deployment deployment(DisklessKafkaCluster c) {
    return BrokerDeploymentDependentResource.deployment(c, Optional.empty(), 3);
  }

  /** The golden minimal cluster: defaults everywhere. */
  private static DisklessKafkaCluster cluster() {
    try {
      return new KubernetesSerialization()
          .unmarshal(
              Files.readString(Path.of("src/test/resources/golden/in-minimal.yaml")),
              DisklessKafkaCluster.class);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
