package dev.diskless.operator.reconciler.cluster.autoscaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.reconciler.cluster.ClusterNames;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The served path of {@code metrics.k8s.io} on a real API server, read with the chart's RBAC. No
 * metrics-server runs here, so the API is served the way an aggregated adapter would serve it to
 * the operator: the group, version, resource and JSON shape of metrics-server's PodMetrics, here
 * from a CustomResourceDefinition (a {@code *.k8s.io} group needs the api-approved annotation).
 * Discovery before and after it is installed, the label selection and the container choice all go
 * through the API server; the CRD is removed afterwards so no other test sees the group.
 */
class PodMetricsApiIT {

  private static final String CRD =
      """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: pods.metrics.k8s.io
        annotations:
          api-approved.kubernetes.io: "unapproved, test stand-in for metrics-server"
      spec:
        group: metrics.k8s.io
        scope: Namespaced
        names: {kind: PodMetrics, listKind: PodMetricsList, plural: pods, singular: pod}
        versions:
          - name: v1beta1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  timestamp: {type: string}
                  window: {type: string}
                  containers:
                    type: array
                    items:
                      type: object
                      properties:
                        name: {type: string}
                        usage: {type: object, additionalProperties: {type: string}}
      """;

  private static final ResourceDefinitionContext POD_METRICS =
      new ResourceDefinitionContext.Builder()
          .withGroup("metrics.k8s.io")
          .withVersion("v1beta1")
          .withPlural("pods")
          .withKind("PodMetrics")
          .withNamespaced(true)
          .build();

  @Test
  void brokerCpuIsReadFromTheServedApiWithTheChartsRbacAndOnlyAfterDiscoveryFindsIt()
      throws Exception {
    KubeControlPlane plane = KubeControlPlane.get();
    try (KubernetesClient admin = plane.adminClient();
        KubernetesClient operator =
            new KubernetesClientBuilder()
                .withConfig(
                    new ConfigBuilder()
                        .withMasterUrl(plane.url())
                        .withOauthToken(KubeApiServerResource.installChartRbac(admin))
                        .withTrustCerts(true)
                        .build())
                .build()) {
      String ns = plane.newNamespace(admin);
      DisklessKafkaCluster cluster = new DisklessKafkaCluster();
      cluster.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace(ns).build());
      // Discovery is asked again on every call: a zero recheck.
      PodMetricsApi api = new PodMetricsApi(operator, Clock.systemUTC(), Duration.ZERO);

      assertThat(api.served()).isFalse();
      assertThat(api.brokerCores(cluster)).isEmpty();

      CustomResourceDefinition crd =
          admin
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .load(new ByteArrayInputStream(CRD.getBytes(StandardCharsets.UTF_8)))
              .item();
      admin.resource(crd).create();
      try {
        Awaitility.await()
            .atMost(30, TimeUnit.SECONDS)
            .until(
                () ->
                    admin
                        .apiextensions()
                        .v1()
                        .customResourceDefinitions()
                        .withName(crd.getMetadata().getName())
                        .get()
                        .getStatus()
                        .getConditions()
                        .stream()
                        .anyMatch(
                            c ->
                                c.getType().equals("Established") && c.getStatus().equals("True")));
        Map<String, String> brokerLabels = ClusterNames.brokerSelector(cluster);
        create(
            admin, ns, "orders-broker-1", brokerLabels, "broker", "1250m", "istio-proxy", "300m");
        create(admin, ns, "orders-broker-2", brokerLabels, "broker", "250000000n", null, null);
        // Another cluster's broker in the same namespace is not this cluster's.
        create(
            admin,
            ns,
            "payments-broker-1",
            Map.of(
                "app.kubernetes.io/name", "diskless-kafka",
                "app.kubernetes.io/instance", "payments",
                "app.kubernetes.io/component", "broker"),
            "broker",
            "900m",
            null,
            null);

        Awaitility.await().atMost(30, TimeUnit.SECONDS).until(api::served);
        assertThat(api.brokerCores(cluster))
            .containsExactlyInAnyOrderEntriesOf(
                Map.of("orders-broker-1", 1.25, "orders-broker-2", 0.25));
      } finally {
        admin.resource(crd).delete();
        admin.namespaces().withName(ns).delete();
      }
      Awaitility.await()
          .atMost(60, TimeUnit.SECONDS)
          .until(() -> admin.getApiGroup(PodMetricsApi.GROUP) == null);
      assertThat(api.served()).isFalse();
    }
  }

  private static void create(
      KubernetesClient admin,
      String ns,
      String pod,
      Map<String, String> labels,
      String container,
      String cpu,
      String sidecar,
      String sidecarCpu) {
    List<Map<String, Object>> containers = new java.util.ArrayList<>();
    containers.add(Map.of("name", container, "usage", Map.of("cpu", cpu, "memory", "800Mi")));
    if (sidecar != null) {
      containers.add(Map.of("name", sidecar, "usage", Map.of("cpu", sidecarCpu, "memory", "60Mi")));
    }
    GenericKubernetesResource metrics =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("metrics.k8s.io/v1beta1")
            .withKind("PodMetrics")
            .withNewMetadata()
            .withName(pod)
            .withNamespace(ns)
            .withLabels(labels)
            .endMetadata()
            .withAdditionalProperties(
                Map.of(
                    "timestamp",
                    "2026-01-01T00:00:00Z",
                    "window",
                    "15.004s",
                    "containers",
                    containers))
            .build();
    admin.genericKubernetesResources(POD_METRICS).inNamespace(ns).resource(metrics).create();
  }
}
