package dev.diskless.operator.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The chart as rendered by helm template, applied to the real API server: every manifest is
 * accepted, and the operator Deployment with two replicas gets its pods from the controller manager
 * (they stay Pending here: no scheduler, no kubelet, and no published image).
 */
class ChartInstallIT {

  @Test
  void everyRenderedManifestIsAcceptedByTheApiServer() throws Exception {
    String ns = "chart-check";
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      KubeApiServerResource.installCrd(client);
      client
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .serverSideApply();
      String rendered =
          new Helm(ChartTest.chart())
              .template()
              .withName("chart-check")
              .withNamespace(ns)
              .set("replicas", "2")
              .set("watchNamespaces[0]", "team-a")
              .call();
      List<HasMetadata> objects =
          client.load(new ByteArrayInputStream(rendered.getBytes())).items();
      assertThat(objects)
          .extracting(HasMetadata::getKind)
          .contains(
              "ServiceAccount",
              "ClusterRole",
              "ClusterRoleBinding",
              "Role",
              "RoleBinding",
              "Deployment",
              "Service");
      for (HasMetadata o : objects) {
        client.resource(o).inNamespace(ns).forceConflicts().serverSideApply();
      }
      Deployment operator =
          client.apps().deployments().inNamespace(ns).withName("chart-check").get();
      var container = operator.getSpec().getTemplate().getSpec().getContainers().get(0);
      assertThat(container.getEnv())
          .anySatisfy(
              e -> {
                assertThat(e.getName()).isEqualTo("POD_NAME");
                assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                    .isEqualTo("metadata.name");
              })
          .anySatisfy(
              e -> {
                assertThat(e.getName())
                    .isEqualTo(
                        "QUARKUS_OPERATOR_SDK_CONTROLLERS_DISKLESSKAFKACLUSTERRECONCILER_NAMESPACES");
                assertThat(e.getValue()).isEqualTo("team-a");
              });
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(
                          client
                              .pods()
                              .inNamespace(ns)
                              .withLabel("app.kubernetes.io/name", "diskless-operator")
                              .list()
                              .getItems())
                      .hasSize(2));
    }
  }
}
