package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import dev.diskless.operator.testing.S3ProxyServer;
import dev.diskless.operator.testing.TestClusters;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The operator, running in Quarkus, against a real kube-apiserver: a DisklessKafkaCluster gets its
 * owned objects and a status; a settings change rolls the brokers and touches nothing else; a
 * reconcile that changes nothing writes nothing; a refused object is reported as Degraded; deletion
 * garbage-collects the owned objects and honours the bucket's deletionPolicy. The control plane
 * runs kube-controller-manager but no scheduler or kubelet, so broker pods stay Pending.
 */
@QuarkusTest
@QuarkusTestResource(KubeApiServerResource.class)
class ClusterReconcileIT {

  private static final S3ProxyServer S3 = TestClusters.startS3();
  private static final TestClusters CLUSTERS = new TestClusters(S3);

  private static final String CLUSTER = TestClusters.ORDERS;

  @TestHTTPResource("/q/metrics")
  URI operatorMetrics;

  /**
   * Edits the cluster as kubectl edit does: read, change, write with the resourceVersion read, and
   * again on a conflict (the operator writes the status and its finalizer meanwhile).
   */
  private static DisklessKafkaCluster edit(
      KubernetesClient client,
      String ns,
      java.util.function.UnaryOperator<DisklessKafkaCluster> f) {
    for (int attempt = 1; ; attempt++) {
      try {
        return client
            .resources(DisklessKafkaCluster.class)
            .inNamespace(ns)
            .withName("orders")
            .edit(f);
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  private static DisklessKafkaCluster cluster(KubernetesClient client, String ns) {
    return client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").get();
  }

  private static Deployment brokers(KubernetesClient client, String ns) {
    return client.apps().deployments().inNamespace(ns).withName("orders-broker").get();
  }

  private static String settingsFile(KubernetesClient client, String ns) {
    return client
        .configMaps()
        .inNamespace(ns)
        .withName("orders-broker-config")
        .get()
        .getData()
        .get("broker.properties");
  }

  @Test
  void aClusterGetsItsObjectsAndAStatus() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = CLUSTERS.create(client, CLUSTER);
      await()
          .atMost(Duration.ofSeconds(60))
          // Objects appear one by one; a missing one is not yet an answer.
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                String uid = cluster(client, ns).getMetadata().getUid();
                ServiceAccount sa =
                    client.serviceAccounts().inNamespace(ns).withName("orders-broker").get();
                Service bootstrap =
                    client.services().inNamespace(ns).withName("orders-bootstrap").get();
                Service headless =
                    client.services().inNamespace(ns).withName("orders-brokers").get();
                PodDisruptionBudget pdb =
                    client
                        .policy()
                        .v1()
                        .podDisruptionBudget()
                        .inNamespace(ns)
                        .withName("orders-broker")
                        .get();
                ConfigMap config =
                    client.configMaps().inNamespace(ns).withName("orders-broker-config").get();
                Deployment brokers = brokers(client, ns);
                for (HasMetadata o : List.of(sa, bootstrap, headless, pdb, config, brokers)) {
                  assertThat(o.getMetadata().getOwnerReferences())
                      .singleElement()
                      .satisfies(r -> assertThat(r.getUid()).isEqualTo(uid));
                  assertThat(o.getMetadata().getLabels())
                      .containsEntry("app.kubernetes.io/instance", "orders")
                      .containsEntry("app.kubernetes.io/managed-by", "diskless-operator");
                }
                assertThat(sa.getAutomountServiceAccountToken()).isFalse();
                assertThat(bootstrap.getSpec().getPorts())
                    .singleElement()
                    .satisfies(p -> assertThat(p.getPort()).isEqualTo(9092));
                assertThat(bootstrap.getSpec().getSelector())
                    .isEqualTo(
                        Map.of(
                            "app.kubernetes.io/name", "diskless-kafka",
                            "app.kubernetes.io/instance", "orders",
                            "app.kubernetes.io/component", "broker"));
                assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
                assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
                assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);

                assertThat(settingsFile(client, ns))
                    .contains("object.store.bucket=orders-data\n")
                    .contains("metadata.jdbc.url=jdbc:postgresql://db:5432/orders\n")
                    .contains("listen.port=9092\n")
                    .contains("cluster.id=" + uid + "\n")
                    .doesNotContain("password");
                assertThat(brokers.getSpec().getReplicas()).isEqualTo(3);
                var rolling = brokers.getSpec().getStrategy().getRollingUpdate();
                assertThat(rolling.getMaxSurge().getIntVal()).isEqualTo(1);
                assertThat(rolling.getMaxUnavailable().getIntVal()).isZero();
                var pod = brokers.getSpec().getTemplate().getSpec();
                assertThat(pod.getServiceAccountName()).isEqualTo("orders-broker");
                assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(45L);
                assertThat(pod.getTopologySpreadConstraints()).hasSize(2);
                var broker = pod.getContainers().get(0);
                assertThat(broker.getArgs())
                    .containsExactly("--config", "/etc/diskless/broker.properties");
                assertThat(broker.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
                assertThat(broker.getEnv())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getName()).isEqualTo("DISKLESS_METADATA_PASSWORD");
                          assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("db");
                        })
                    .anySatisfy(
                        e -> {
                          assertThat(e.getName()).isEqualTo("DISKLESS_ADVERTISED_HOST");
                          assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                              .isEqualTo("status.podIP");
                        });
                assertThat(brokers.getSpec().getTemplate().getMetadata().getAnnotations())
                    .containsKey("diskless.dev/config-hash");

                DisklessKafkaCluster c = cluster(client, ns);
                assertThat(c.getStatus()).isNotNull();
                assertThat(c.getStatus().observedGeneration)
                    .isEqualTo(c.getMetadata().getGeneration());
                assertThat(c.getStatus().bootstrapServers)
                    .isEqualTo("orders-bootstrap." + ns + ".svc:9092");
                assertThat(c.getStatus().readyBrokers).isZero();
                // The controller manager created the pods; none can run here.
                assertThat(brokers.getStatus().getUpdatedReplicas()).isEqualTo(3);
                assertThat(pdb.getStatus().getExpectedPods()).isEqualTo(3);
                assertThat(c.getStatus().replicas).isEqualTo(3);
                assertThat(c.getStatus().conditions)
                    .anySatisfy(
                        cond -> {
                          assertThat(cond.getType()).isEqualTo("Reconciling");
                          assertThat(cond.getStatus()).isEqualTo("True");
                          assertThat(cond.getReason()).isEqualTo("RollingOut");
                          assertThat(cond.getMessage())
                              .isEqualTo("3/3 brokers run the current spec, 0 available, 0 old");
                        })
                    .anySatisfy(
                        cond -> {
                          assertThat(cond.getType()).isEqualTo("Degraded");
                          assertThat(cond.getStatus()).isEqualTo("True");
                          assertThat(cond.getReason()).isEqualTo("MetadataNotReady");
                        })
                    .anySatisfy(
                        cond -> {
                          assertThat(cond.getType()).isEqualTo("WalReady");
                          assertThat(cond.getStatus()).isEqualTo("True");
                          assertThat(cond.getReason()).isEqualTo("ObjectWal");
                        });
                assertThat(c.getStatus().conditions)
                    .anySatisfy(
                        cond -> {
                          assertThat(cond.getType()).isEqualTo("Ready");
                          assertThat(cond.getStatus()).isEqualTo("False");
                          assertThat(cond.getReason()).isEqualTo("MetadataNotReady");
                        })
                    .anySatisfy(
                        cond -> {
                          assertThat(cond.getType()).isEqualTo("BucketReady");
                          assertThat(cond.getStatus()).isEqualTo("True");
                          assertThat(cond.getReason()).isEqualTo("BucketAvailable");
                        })
                    .anySatisfy(
                        cond -> {
                          // The cluster names a Secret "db" that does not exist.
                          assertThat(cond.getType()).isEqualTo("MetadataReady");
                          assertThat(cond.getStatus()).isEqualTo("False");
                          assertThat(cond.getReason()).isEqualTo("SecretNotFound");
                          assertThat(cond.getMessage()).contains("Secret db not found");
                        });
              });

      // Nothing changes: a reconcile forced by an annotation on the cluster writes nothing, neither
      // to the owned objects nor to the status.
      Map<String, String> versions = allVersions(client, ns);
      DisklessKafkaCluster nudged =
          edit(
              client,
              ns,
              x -> {
                x.getMetadata().getAnnotations().put("test/nudge", "1");
                return x;
              });
      String clusterVersion = nudged.getMetadata().getResourceVersion();
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(allVersions(client, ns)).isEqualTo(versions);
                assertThat(cluster(client, ns).getMetadata().getResourceVersion())
                    .isEqualTo(clusterVersion);
              });
    }
  }

  @Test
  void aSettingChangeRollsTheBrokersAndTouchesNothingElse() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = CLUSTERS.create(client, CLUSTER);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> brokers(client, ns) != null && cluster(client, ns).getStatus() != null);
      Map<String, String> before = versions(client, ns);
      String hash = configHash(client, ns);
      long changed = System.nanoTime();
      edit(
          client,
          ns,
          c -> {
            c.getSpec().brokers.config.put("wal.max.age.ms", "20");
            return c;
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          // Objects appear one by one; a missing one is not yet an answer.
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(configHash(client, ns)).isNotEqualTo(hash);
                assertThat(settingsFile(client, ns)).contains("wal.max.age.ms=20\n");
              });
      System.out.printf(
          "reconcile latency: spec change to Deployment updated in %d ms (polled every 100 ms)%n",
          (System.nanoTime() - changed) / 1_000_000);
      assertThat(versions(client, ns)).as("unrelated objects untouched").isEqualTo(before);
    }
  }

  /**
   * Named listeners become ports of the pods and Services, TLS Secrets are mounted, and with a SASL
   * listener the brokers get the operator's user: a generated password kept across reconciles (the
   * brokers stored its credentials), reaching the pods from its Secret.
   */
  @Test
  void namedListenersGetPortsTlsAndTheOperatorsUser() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns =
          CLUSTERS.create(
              client,
              CLUSTER.replace(
                  "spec:\n",
                  """
                  spec:
                    authorization:
                      type: simple
                    listeners:
                      interBroker: internal
                      kafka:
                        - name: external
                          port: 9094
                          tls: {secretName: orders-tls}
                          authentication: {type: scram-sha-512}
                        - name: internal
                          port: 9092
                          authentication: {type: scram-sha-512}
                  """));
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                var secret =
                    client.secrets().inNamespace(ns).withName("orders-operator-credentials").get();
                assertThat(secret.getData()).containsKeys("username", "password");
                var pod = brokers(client, ns).getSpec().getTemplate().getSpec();
                assertThat(pod.getContainers().get(0).getPorts())
                    .extracting(p -> p.getName() + ":" + p.getContainerPort())
                    .containsExactly("external:9094", "internal:9092", "http:8080");
                assertThat(pod.getContainers().get(0).getEnv())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getName()).isEqualTo("DISKLESS_SASL_BOOTSTRAP_PASSWORD");
                          assertThat(e.getValueFrom().getSecretKeyRef().getName())
                              .isEqualTo("orders-operator-credentials");
                        });
                assertThat(pod.getVolumes())
                    .filteredOn(v -> v.getSecret() != null)
                    .extracting(v -> v.getSecret().getSecretName())
                    .containsExactly("orders-tls");
                assertThat(
                        client
                            .services()
                            .inNamespace(ns)
                            .withName("orders-bootstrap")
                            .get()
                            .getSpec()
                            .getPorts())
                    .extracting(p -> p.getName() + ":" + p.getPort())
                    .containsExactly("external:9094", "internal:9092");
                assertThat(settingsFile(client, ns))
                    .contains("listeners=EXTERNAL://:9094,INTERNAL://:9092\n")
                    .contains("super.users=User:diskless-operator\n");
                assertThat(cluster(client, ns).getStatus().bootstrapServers)
                    .isEqualTo("orders-bootstrap." + ns + ".svc:9094");
              });
      String password = password(client, ns);
      String hash = configHash(client, ns);
      edit(
          client,
          ns,
          c -> {
            c.getSpec().brokers.config.put("wal.max.age.ms", "20");
            return c;
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(() -> assertThat(configHash(client, ns)).isNotEqualTo(hash));
      assertThat(password(client, ns)).as("kept across reconciles").isEqualTo(password);
    }
  }

  private static String password(KubernetesClient client, String ns) {
    return client
        .secrets()
        .inNamespace(ns)
        .withName("orders-operator-credentials")
        .get()
        .getData()
        .get("password");
  }

  /**
   * The brokers' pods pass the restricted Pod Security profile as the API server enforces it (the
   * PodSecurity admission plugin, on by default), they carry the spec's image pull Secrets, and the
   * ServiceAccount carries the spec's annotations next to ones added by someone else.
   */
  @Test
  void theBrokersRunInANamespaceEnforcingTheRestrictedProfile() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = CLUSTERS.namespace(client, S3ProxyServer.ACCESS_KEY);
      client
          .namespaces()
          .withName(ns)
          .edit(
              n -> {
                n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
                return n;
              });
      // The namespace does refuse a pod that does not meet the profile.
      var unrestricted =
          new io.fabric8.kubernetes.api.model.PodBuilder()
              .withNewMetadata()
              .withName("plain")
              .endMetadata()
              .withNewSpec()
              .addNewContainer()
              .withName("c")
              .withImage("busybox")
              .endContainer()
              .endSpec()
              .build();
      assertThat(
              org.assertj.core.api.Assertions.catchThrowableOfType(
                  io.fabric8.kubernetes.client.KubernetesClientException.class,
                  () -> client.pods().inNamespace(ns).resource(unrestricted).create()))
          .satisfies(e -> assertThat(e.getCode()).isEqualTo(403));
      CLUSTERS.apply(
          client,
          ns,
          CLUSTER.replace(
              "spec:\n",
              """
              spec:
                brokers:
                  template:
                    imagePullSecrets: [{name: regcred}]
                  serviceAccount:
                    annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/a"}
              """));
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                // Created by the ReplicaSet controller, through PodSecurity admission.
                var pods = client.pods().inNamespace(ns).list().getItems();
                assertThat(pods).hasSize(3);
                assertThat(pods.get(0).getSpec().getImagePullSecrets())
                    .singleElement()
                    .satisfies(r -> assertThat(r.getName()).isEqualTo("regcred"));
                assertThat(
                        client
                            .serviceAccounts()
                            .inNamespace(ns)
                            .withName("orders-broker")
                            .get()
                            .getMetadata()
                            .getAnnotations())
                    .containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::1:role/a");
              });
      client
          .serviceAccounts()
          .inNamespace(ns)
          .withName("orders-broker")
          .edit(
              sa -> {
                sa.getMetadata().getAnnotations().put("example.com/added-by", "someone-else");
                return sa;
              });
      edit(
          client,
          ns,
          c -> {
            c.getSpec()
                .brokers
                .serviceAccount
                .annotations
                .put("eks.amazonaws.com/role-arn", "arn:aws:iam::1:role/b");
            return c;
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(
                          client
                              .serviceAccounts()
                              .inNamespace(ns)
                              .withName("orders-broker")
                              .get()
                              .getMetadata()
                              .getAnnotations())
                      .containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::1:role/b")
                      .containsEntry("example.com/added-by", "someone-else"));
    }
  }

  @Test
  void aVolumeWalGetsItsSharedClaimMounted() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns =
          CLUSTERS.create(
              client,
              CLUSTER.replace(
                  "spec:\n",
                  "spec:\n  wal:\n    type: volume\n    volume:\n      storageClassName: nfs\n"
                      + "      size: 20Gi\n"));
      await()
          .atMost(Duration.ofSeconds(60))
          // Objects appear one by one; a missing one is not yet an answer.
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                PersistentVolumeClaim claim =
                    client.persistentVolumeClaims().inNamespace(ns).withName("orders-wal").get();
                assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteMany");
                assertThat(claim.getSpec().getStorageClassName()).isEqualTo("nfs");
                assertThat(brokers(client, ns).getSpec().getTemplate().getSpec().getVolumes())
                    .anySatisfy(
                        v ->
                            assertThat(v.getPersistentVolumeClaim())
                                .isNotNull()
                                .satisfies(
                                    c -> assertThat(c.getClaimName()).isEqualTo("orders-wal")));
                assertThat(settingsFile(client, ns))
                    .contains("wal.type=volume\n")
                    .contains("wal.volume.root=/var/lib/diskless/wal\n");
                var wal = condition(client, ns, "orders", "WalReady");
                assertThat(wal.getStatus()).isEqualTo("False");
                assertThat(wal.getReason()).isEqualTo("VolumePending");
                assertThat(wal.getMessage()).contains("storage class nfs");
              });
      // A volume the claim can bind to (what a provisioner would create): the controller
      // manager binds it and the WAL becomes ready.
      String pv = "wal-" + ns;
      client
          .persistentVolumes()
          .resource(
              new PersistentVolumeBuilder()
                  .withNewMetadata()
                  .withName(pv)
                  .endMetadata()
                  .withNewSpec()
                  .withCapacity(Map.of("storage", new Quantity("20Gi")))
                  .withAccessModes("ReadWriteMany")
                  .withStorageClassName("nfs")
                  .withNewNfs()
                  .withServer("nfs.example")
                  .withPath("/wal")
                  .endNfs()
                  .endSpec()
                  .build())
          .create();
      await()
          .atMost(Duration.ofSeconds(90))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                var wal = condition(client, ns, "orders", "WalReady");
                assertThat(wal.getStatus()).isEqualTo("True");
                assertThat(wal.getReason()).isEqualTo("VolumeBound");
                assertThat(wal.getMessage()).isEqualTo("claim orders-wal is bound to volume " + pv);
              });
    }
  }

  @Test
  void anObjectTheApiServerRefusesIsReportedAsDegradedUntilFixed() {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      // The CRD takes any topology spread; the Deployment's own validation refuses maxSkew 0.
      String ns =
          CLUSTERS.create(
              client,
              CLUSTER.replace(
                  "spec:\n",
                  "spec:\n  brokers:\n    template:\n      topologySpreadConstraints:\n"
                      + "        - maxSkew: 0\n          topologyKey: topology.kubernetes.io/zone\n"
                      + "          whenUnsatisfiable: DoNotSchedule\n"));
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                var degraded = condition(client, ns, "orders", "Degraded");
                assertThat(degraded.getStatus()).isEqualTo("True");
                assertThat(degraded.getReason()).isEqualTo("ReconcileFailed");
                assertThat(degraded.getMessage()).contains("maxSkew");
                assertThat(brokers(client, ns)).isNull();
                // ArgoCD's health check agrees with the status on the live object.
                @SuppressWarnings("unchecked")
                Map<String, Object> live =
                    client
                        .getKubernetesSerialization()
                        .convertValue(cluster(client, ns), Map.class);
                assertThat(dev.diskless.operator.examples.ArgoHealthCheckTest.health(live))
                    .containsEntry("status", "Degraded");
                // And so does the operator's metric, which the DisklessClusterDegraded alert reads.
                assertThat(conditionGauge(ns, "orders", "Degraded")).isEqualTo(1.0);
              });
      edit(
          client,
          ns,
          c -> {
            c.getSpec().brokers.template.topologySpreadConstraints.get(0).setMaxSkew(1);
            return c;
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(brokers(client, ns)).isNotNull();
                // The database Secret is missing in this namespace: still Degraded, for that.
                assertThat(condition(client, ns, "orders", "Degraded").getReason())
                    .isEqualTo("MetadataNotReady");
              });
    }
  }

  @Test
  void deletingAClusterCollectsItsObjectsAndKeepsTheBucketUnlessAskedToDeleteIt() throws Exception {
    try (KubernetesClient client = KubeControlPlane.get().adminClient();
        S3Client s3 = S3.client()) {
      String retained =
          CLUSTERS.create(client, CLUSTER.replace("bucket: orders-data", "bucket: kept"));
      String deleted =
          CLUSTERS.create(
              client,
              CLUSTER.replace(
                  "bucket: orders-data", "bucket: dropped\n    deletionPolicy: Delete"));
      String shared =
          CLUSTERS.create(
              client,
              CLUSTER.replace("bucket: orders-data", "bucket: shared\n    deletionPolicy: Delete"));
      for (String ns : List.of(retained, deleted, shared)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .until(
                () ->
                    condition(client, ns, "orders", "BucketReady").getStatus().equals("True")
                        && brokers(client, ns) != null);
      }
      // What brokers would have written, and, in the shared bucket, something of someone else.
      s3.putObject(
          b -> b.bucket("kept").key(retained + "/orders/wal/1"), RequestBody.fromString("x"));
      s3.putObject(
          b -> b.bucket("dropped").key(deleted + "/orders/wal/1"), RequestBody.fromString("x"));
      s3.putObject(
          b -> b.bucket("dropped").key(deleted + "/orders/segments/2"),
          RequestBody.fromString("x"));
      s3.putObject(
          b -> b.bucket("shared").key(shared + "/orders/wal/1"), RequestBody.fromString("x"));
      s3.putObject(b -> b.bucket("shared").key("someone-else/data"), RequestBody.fromString("x"));

      for (String ns : List.of(retained, deleted, shared)) {
        assertThat(cluster(client, ns).getMetadata().getFinalizers())
            .containsExactly("disklesskafkaclusters.diskless.dev/finalizer");
        client.resources(DisklessKafkaCluster.class).inNamespace(ns).withName("orders").delete();
      }
      await()
          .atMost(Duration.ofSeconds(120))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                for (String ns : List.of(retained, deleted, shared)) {
                  assertThat(cluster(client, ns)).as("cluster in " + ns).isNull();
                  // Garbage-collected by the controller manager through the owner references.
                  assertThat(
                          client
                              .configMaps()
                              .inNamespace(ns)
                              .withName("orders-broker-config")
                              .get())
                      .isNull();
                  assertThat(client.services().inNamespace(ns).withName("orders-bootstrap").get())
                      .isNull();
                  assertThat(client.services().inNamespace(ns).withName("orders-brokers").get())
                      .isNull();
                  assertThat(
                          client.serviceAccounts().inNamespace(ns).withName("orders-broker").get())
                      .isNull();
                  assertThat(
                          client
                              .policy()
                              .v1()
                              .podDisruptionBudget()
                              .inNamespace(ns)
                              .withName("orders-broker")
                              .get())
                      .isNull();
                  assertThat(brokers(client, ns)).isNull();
                  assertThat(client.pods().inNamespace(ns).list().getItems()).isEmpty();
                  // No stale series of a deleted cluster on the operator's /q/metrics.
                  assertThat(conditionGauge(ns, "orders", "Degraded")).isNull();
                  assertThat(conditionGauge(ns, "orders", "Ready")).isNull();
                }
              });
      assertThat(keys(s3, "kept")).containsExactly(retained + "/orders/wal/1");
      assertThat(S3.hasBucket("dropped")).isFalse();
      assertThat(keys(s3, "shared")).containsExactly("someone-else/data");
    }
  }

  private static List<String> keys(S3Client s3, String bucket) {
    return s3.listObjectsV2(b -> b.bucket(bucket)).contents().stream().map(o -> o.key()).toList();
  }

  @Test
  void metadataReadyTellsWhetherTheDatabaseAcceptsTheCredentials() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
        KubernetesClient client = KubeControlPlane.get().adminClient()) {
      String ns = CLUSTERS.namespace(client, S3ProxyServer.ACCESS_KEY);
      client
          .secrets()
          .inNamespace(ns)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName("db")
                  .endMetadata()
                  .addToStringData("username", "postgres")
                  .addToStringData("password", "unused")
                  .build())
          .create();
      String good = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
      String missing = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/no_such_db";
      for (String[] c : new String[][] {{"good", good}, {"bad", missing}}) {
        CLUSTERS.apply(
            client,
            ns,
            CLUSTER
                .replace("name: orders", "name: " + c[0])
                .replace("jdbc:postgresql://db:5432/orders", c[1]));
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(condition(client, ns, "good", "MetadataReady"))
                    .satisfies(
                        cond -> {
                          assertThat(cond.getStatus()).isEqualTo("True");
                          assertThat(cond.getReason()).isEqualTo("Connected");
                        });
                assertThat(condition(client, ns, "bad", "MetadataReady"))
                    .satisfies(
                        cond -> {
                          assertThat(cond.getStatus()).isEqualTo("False");
                          assertThat(cond.getReason()).isEqualTo("DatabaseNotFound");
                          assertThat(cond.getMessage()).contains("no_such_db");
                        });
                // The condition gauges: 1 for the cluster without its database, 0 for the other.
                assertThat(condition(client, ns, "good", "Degraded").getStatus())
                    .isEqualTo("False");
                assertThat(conditionGauge(ns, "good", "Degraded")).isEqualTo(0.0);
                assertThat(conditionGauge(ns, "good", "MetadataReady")).isEqualTo(1.0);
                assertThat(conditionGauge(ns, "bad", "Degraded")).isEqualTo(1.0);
                assertThat(conditionGauge(ns, "bad", "MetadataReady")).isEqualTo(0.0);
              });
    }
  }

  @Test
  void bucketReadyCreatesAMissingBucketOrSaysWhatIsWrong() throws Exception {
    try (KubernetesClient client = KubeControlPlane.get().adminClient()) {
      // Missing and allowed to be created: it is.
      String ns =
          CLUSTERS.create(client, CLUSTER.replace("bucket: orders-data", "bucket: created-here"));
      // Missing and not to be created.
      String ns2 =
          CLUSTERS.create(
              client,
              CLUSTER.replace(
                  "bucket: orders-data", "bucket: not-here\n    createIfMissing: false"));
      // Wrong credentials.
      String ns3 = CLUSTERS.namespace(client, "wrong-key");
      CLUSTERS.apply(client, ns3, CLUSTER.replace("bucket: orders-data", "bucket: denied-bucket"));
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(condition(client, ns, "orders", "BucketReady").getStatus())
                    .isEqualTo("True");
                assertThat(S3.hasBucket("created-here")).isTrue();
                var missing = condition(client, ns2, "orders", "BucketReady");
                assertThat(missing.getStatus()).isEqualTo("False");
                assertThat(missing.getReason()).isEqualTo("NoSuchBucket");
                assertThat(S3.hasBucket("not-here")).isFalse();
                var denied = condition(client, ns3, "orders", "BucketReady");
                assertThat(denied.getStatus()).isEqualTo("False");
                assertThat(denied.getReason()).isEqualTo("AccessDenied");
                assertThat(S3.hasBucket("denied-bucket")).isFalse();
                assertThat(condition(client, ns3, "orders", "Ready").getReason())
                    .isEqualTo("BucketNotReady");
              });
    }
  }

  /** The value of a cluster's condition gauge on the operator's /q/metrics, or null without one. */
  private Double conditionGauge(String ns, String name, String type) throws Exception {
    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(operatorMetrics).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return body.lines()
        .filter(l -> l.startsWith("diskless_operator_cluster_condition{"))
        .filter(
            l ->
                l.contains("namespace=\"" + ns + "\"")
                    && l.contains("cluster=\"" + name + "\"")
                    && l.contains("condition=\"" + type + "\""))
        .map(l -> Double.valueOf(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElse(null);
  }

  private static io.fabric8.kubernetes.api.model.Condition condition(
      KubernetesClient client, String ns, String name, String type) {
    return client
        .resources(DisklessKafkaCluster.class)
        .inNamespace(ns)
        .withName(name)
        .get()
        .getStatus()
        .conditions
        .stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }

  private static String configHash(KubernetesClient client, String ns) {
    return brokers(client, ns)
        .getSpec()
        .getTemplate()
        .getMetadata()
        .getAnnotations()
        .get("diskless.dev/config-hash");
  }

  /** resourceVersions of every owned object. */
  private static Map<String, String> allVersions(KubernetesClient client, String ns) {
    Map<String, String> all = new java.util.TreeMap<>(versions(client, ns));
    all.put(
        "config",
        client
            .configMaps()
            .inNamespace(ns)
            .withName("orders-broker-config")
            .get()
            .getMetadata()
            .getResourceVersion());
    all.put("brokers", writtenByOthersThanStatus(brokers(client, ns)));
    return all;
  }

  /** resourceVersions of the owned objects a settings change must not touch. */
  private static Map<String, String> versions(KubernetesClient client, String ns) {
    return Map.of(
        "sa",
        client
            .serviceAccounts()
            .inNamespace(ns)
            .withName("orders-broker")
            .get()
            .getMetadata()
            .getResourceVersion(),
        "bootstrap",
        client
            .services()
            .inNamespace(ns)
            .withName("orders-bootstrap")
            .get()
            .getMetadata()
            .getResourceVersion(),
        "headless",
        client
            .services()
            .inNamespace(ns)
            .withName("orders-brokers")
            .get()
            .getMetadata()
            .getResourceVersion(),
        "pdb",
        writtenByOthersThanStatus(
            client
                .policy()
                .v1()
                .podDisruptionBudget()
                .inNamespace(ns)
                .withName("orders-broker")
                .get()));
  }

  /**
   * Everything about an object but its status, which the controller manager writes (a Deployment's
   * replica counts, a PodDisruptionBudget's healthy pods): any write of the operator changes the
   * generation, a label, an annotation or its managed-fields entry.
   */
  private static String writtenByOthersThanStatus(HasMetadata o) {
    var m = o.getMetadata();
    return m.getGeneration()
        + " "
        + m.getLabels()
        + " "
        + m.getAnnotations()
        + " "
        + m.getManagedFields().stream()
            .filter(f -> !"status".equals(f.getSubresource()))
            .map(f -> f.getManager() + "@" + f.getTime() + ":" + f.getFieldsV1())
            .toList();
  }
}
