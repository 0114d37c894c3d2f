package dev.diskless.operator.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every example cluster in examples/ is accepted by the real API server with the committed CRD. */
class ExamplesIT {

  static Path dir() {
    return Path.of(System.getProperty("examples.dir", "../examples"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "minimal.yaml",
        "production.yaml",
        "volume-wal.yaml",
        "autoscaling.yaml",
        "zones.yaml",
        "secure.yaml"
      })
  void theExampleIsAccepted(String file) throws Exception {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      KubeApiServerResource.installCrd(client);
      String ns = KubeControlPlane.get().newNamespace(client);
      GenericKubernetesResource example =
          client
              .getKubernetesSerialization()
              .unmarshal(Files.readString(dir().resolve(file)), GenericKubernetesResource.class);
      GenericKubernetesResource created = client.resource(example).inNamespace(ns).create();
      assertThat(created.getKind()).isEqualTo("DisklessKafkaCluster");
      @SuppressWarnings("unchecked")
      Map<String, Object> spec =
          (Map<String, Object>) created.getAdditionalProperties().get("spec");
      // Defaults filled in by the API server from the CRD.
      assertThat(spec).containsKeys("brokers", "wal", "listeners", "autoscaling");
    }
  }

  @Test
  void theTopicExampleIsAccepted() throws Exception {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      KubeApiServerResource.installCrd(client);
      String ns = KubeControlPlane.get().newNamespace(client);
      GenericKubernetesResource example =
          client
              .getKubernetesSerialization()
              .unmarshal(
                  Files.readString(dir().resolve("topic.yaml")), GenericKubernetesResource.class);
      GenericKubernetesResource created = client.resource(example).inNamespace(ns).create();
      assertThat(created.getKind()).isEqualTo("DisklessKafkaTopic");
      // The topic's name cannot change once the resource exists.
      @SuppressWarnings("unchecked")
      Map<String, Object> spec =
          (Map<String, Object>) created.getAdditionalProperties().get("spec");
      spec.put("topicName", "payments-v2");
      assertThat(
              org.assertj.core.api.Assertions.catchThrowable(
                  () -> client.resource(created).inNamespace(ns).update()))
          .hasMessageContaining("topicName cannot change");
    }
  }

  @Test
  void theTlsUserExampleIsAcceptedAndAnUnknownTypeIsNot() throws Exception {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      KubeApiServerResource.installCrd(client);
      String ns = KubeControlPlane.get().newNamespace(client);
      GenericKubernetesResource example =
          client
              .getKubernetesSerialization()
              .unmarshal(
                  Files.readString(dir().resolve("user-tls.yaml")),
                  GenericKubernetesResource.class);
      GenericKubernetesResource created = client.resource(example).inNamespace(ns).create();
      @SuppressWarnings("unchecked")
      Map<String, Object> spec =
          (Map<String, Object>) created.getAdditionalProperties().get("spec");
      assertThat(spec).containsEntry("authentication", Map.of("type", "tls"));
      example.getAdditionalProperties().put("metadata", Map.of("name", "bob"));
      @SuppressWarnings("unchecked")
      Map<String, Object> bad = (Map<String, Object>) example.getAdditionalProperties().get("spec");
      bad.put("authentication", Map.of("type", "mtls"));
      assertThat(
              org.assertj.core.api.Assertions.catchThrowable(
                  () -> client.resource(example).inNamespace(ns).create()))
          .hasMessageContaining("spec.authentication.type")
          .hasMessageContaining("Unsupported value");
    }
  }

  @Test
  void theUserExampleIsAccepted() throws Exception {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      KubeApiServerResource.installCrd(client);
      String ns = KubeControlPlane.get().newNamespace(client);
      GenericKubernetesResource example =
          client
              .getKubernetesSerialization()
              .unmarshal(
                  Files.readString(dir().resolve("user.yaml")), GenericKubernetesResource.class);
      GenericKubernetesResource created = client.resource(example).inNamespace(ns).create();
      assertThat(created.getKind()).isEqualTo("DisklessKafkaUser");
      @SuppressWarnings("unchecked")
      Map<String, Object> spec =
          (Map<String, Object>) created.getAdditionalProperties().get("spec");
      assertThat(spec).containsEntry("cluster", "orders");
      // A rule without a name (other than for the cluster) is refused by the CRD's rule.
      example.getAdditionalProperties().put("metadata", Map.of("name", "bob"));
      @SuppressWarnings("unchecked")
      Map<String, Object> bad = (Map<String, Object>) example.getAdditionalProperties().get("spec");
      bad.put(
          "authorization",
          Map.of(
              "acls",
              java.util.List.of(
                  Map.of(
                      "resource",
                      Map.of("type", "topic"),
                      "operations",
                      java.util.List.of("Read")))));
      assertThat(
              org.assertj.core.api.Assertions.catchThrowable(
                  () -> client.resource(example).inNamespace(ns).create()))
          .hasMessageContaining("acls: resource.name is required unless the type is cluster");
    }
  }
}
