package dev.diskless.operator.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Points a {@code @QuarkusTest} operator at the real API server of {@link KubeControlPlane}, with
 * the committed CRD installed, instead of Quarkus's dev services or a mock.
 */
public class KubeApiServerResource implements QuarkusTestResourceLifecycleManager {

  @Override
  public Map<String, String> start() {
    KubeControlPlane plane = KubeControlPlane.get();
    try (KubernetesClient client = plane.adminClient()) {
      installCrd(client);
    } catch (Exception e) {
      throw new IllegalStateException("cannot install the CRD", e);
    }
    return Map.of(
        "quarkus.kubernetes-client.api-server-url",
        plane.url(),
        "quarkus.kubernetes-client.token",
        plane.adminToken(),
        "quarkus.kubernetes-client.trust-certs",
        "true");
  }

  @Override
  public void stop() {}

  /** Applies crds/ and waits until the API server serves the resource. */
  public static void installCrd(KubernetesClient client) throws Exception {
    Path crd =
        Path.of(System.getProperty("crd.dir", "../crds"))
            .resolve("disklesskafkaclusters.diskless.dev-v1.yml");
    CustomResourceDefinition definition =
        client
            .getKubernetesSerialization()
            .unmarshal(Files.readString(crd), CustomResourceDefinition.class);
    client.apiextensions().v1().customResourceDefinitions().resource(definition).serverSideApply();
    client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName(definition.getMetadata().getName())
        .waitUntilCondition(
            d ->
                d != null
                    && d.getStatus() != null
                    && d.getStatus().getConditions().stream()
                        .anyMatch(
                            c -> c.getType().equals("Established") && c.getStatus().equals("True")),
            60,
            TimeUnit.SECONDS);
  }
}
