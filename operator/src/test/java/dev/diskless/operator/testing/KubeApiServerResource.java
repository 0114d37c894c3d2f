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
    String token;
    try (KubernetesClient client = plane.adminClient()) {
      installCrd(client);
      token = installChartRbac(client);
    } catch (Exception e) {
      throw new IllegalStateException("cannot install the CRD and the chart's RBAC", e);
    }
    // The operator runs as the chart's ServiceAccount, so every test proves the chart's RBAC.
    return Map.of(
        "quarkus.kubernetes-client.api-server-url",
        plane.url(),
        "quarkus.kubernetes-client.token",
        token,
        "quarkus.kubernetes-client.trust-certs",
        "true");
  }

  @Override
  public void stop() {}

  /**
   * Renders the Helm chart, applies its ServiceAccount, roles and bindings, and returns a token of
   * that ServiceAccount.
   */
  public static String installChartRbac(KubernetesClient client) {
    String namespace = "diskless-system";
    if (client.namespaces().withName(namespace).get() == null) {
      client
          .namespaces()
          .resource(
              new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                  .withNewMetadata()
                  .withName(namespace)
                  .endMetadata()
                  .build())
          .create();
    }
    String rendered =
        new com.marcnuri.helm.Helm(
                Path.of(System.getProperty("chart.dir", "../helm/diskless-operator")))
            .template()
            .withName("diskless")
            .withNamespace(namespace)
            .call();
    for (io.fabric8.kubernetes.api.model.HasMetadata o :
        client.load(new java.io.ByteArrayInputStream(rendered.getBytes())).items()) {
      String kind = o.getKind();
      if (kind.equals("ServiceAccount") || kind.contains("Role")) {
        client.resource(o).inNamespace(namespace).serverSideApply();
      }
    }
    return client
        .serviceAccounts()
        .inNamespace(namespace)
        .withName("diskless")
        .tokenRequest(
            new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder()
                .withNewSpec()
                .withExpirationSeconds(3600L)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  /** Applies crds/ and waits until the API server serves the resource. */
  public static void installCrd(KubernetesClient client) throws Exception {
    for (String file :
        java.util.List.of(
            "disklesskafkaclusters.diskless.dev-v1.yml",
            "disklesskafkausers.diskless.dev-v1.yml",
            "disklesskafkatopics.diskless.dev-v1.yml")) {
      installCrd(client, Path.of(System.getProperty("crd.dir", "../crds")).resolve(file));
    }
  }

  private static void installCrd(KubernetesClient client, Path crd) throws Exception {
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
                    // The API server writes the status before its conditions.
                    && d.getStatus().getConditions() != null
                    && d.getStatus().getConditions().stream()
                        .anyMatch(
                            c -> c.getType().equals("Established") && c.getStatus().equals("True")),
            60,
            TimeUnit.SECONDS);
  }
}
