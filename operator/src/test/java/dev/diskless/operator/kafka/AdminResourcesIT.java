package dev.diskless.operator.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.kube.LocalControlPlane;
import dev.diskless.operator.crd.DisklessKafkaTopic;
import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.examples.ArgoHealthCheckTest;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import dev.diskless.operator.testing.S3ProxyServer;
import dev.diskless.operator.testing.TestClusters;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DisklessKafkaUser and DisklessKafkaTopic against a real broker: the broker's own jar runs as a
 * process with a SASL listener, ACLs on and the operator's user as its bootstrap user (as the
 * operator renders it), over an embedded PostgreSQL and S3Proxy; a pod object stands for it in the
 * API server (no kubelet here) with the broker's address. The operator generates the user's Secret,
 * registers its SCRAM credential and ACLs, follows a changed spec and removes both when the user
 * goes; a client logs in with the generated sasl.jaas.config and meets exactly the ACLs.
 */
@QuarkusTest
@QuarkusTestResource(KubeApiServerResource.class)
class AdminResourcesIT {

  private static final S3ProxyServer S3 = TestClusters.startS3();
  private static final TestClusters CLUSTERS = new TestClusters(S3);

  private static BrokerProcess broker;
  private static int port;

  @BeforeAll
  static void startBroker() throws Exception {
    port = LocalControlPlane.freePort();
    broker =
        BrokerProcess.start(
            Files.createTempDirectory("user-it"),
            "users",
            S3,
            List.of(
                "listeners=INTERNAL://127.0.0.1:" + port,
                "listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "sasl.bootstrap.user=diskless-operator",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users=User:diskless-operator"),
            port);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  private static Map<String, Object> operator() {
    return ClusterFixtures.operatorClient(port);
  }

  /**
   * A namespace with cluster orders pointing at the broker process: the operator's credentials as
   * the broker knows them (the cluster's dependent keeps a Secret that already holds a password)
   * and a pod standing for the broker.
   */
  private static String clusterNamespace(KubernetesClient kube) {
    String ns = CLUSTERS.namespace(kube, S3ProxyServer.ACCESS_KEY);
    ClusterFixtures.operatorCredentials(kube, ns);
    CLUSTERS.apply(
        kube,
        ns,
        TestClusters.ORDERS.replace(
            "spec:\n",
            "spec:\n  authorization: {type: simple}\n  listeners:\n    kafka:\n"
                + "      - {name: internal, port: "
                + port
                + ", authentication: {type: scram-sha-512}}\n"));
    ClusterFixtures.standInForTheBroker(kube, ns, "orders");
    return ns;
  }

  @Test
  void theOperatorRegistersTheUserItsSecretAndItsAclsAndRemovesThemAgain() throws Exception {
    try (KubernetesClient kube = KubeControlPlane.get().adminClient();
        Admin admin = Admin.create(operator())) {
      admin
          .createTopics(
              List.of(new NewTopic("payments", 1, (short) 1), new NewTopic("ledger", 1, (short) 1)))
          .all()
          .get();
      String ns = clusterNamespace(kube);
      ClusterFixtures.apply(
          kube,
          ns,
          """
          apiVersion: diskless.dev/v1alpha1
          kind: DisklessKafkaUser
          metadata:
            name: alice
          spec:
            cluster: orders
            authentication: {type: scram-sha-512}
            authorization:
              acls:
                - resource: {type: topic, name: payments}
                  operations: [Read, Describe]
                - resource: {type: group, name: pay-, patternType: prefix}
                  operations: [Read]
          """);
      await()
          .atMost(Duration.ofSeconds(90))
          .ignoreExceptions()
          .untilAsserted(() -> assertThat(ready(kube, ns)).isEqualTo("True"));
      // ArgoCD's health check agrees with the status on the live object.
      assertThat(
              ArgoHealthCheckTest.userTopicHealth(
                  live(
                      kube,
                      kube.resources(DisklessKafkaUser.class)
                          .inNamespace(ns)
                          .withName("alice")
                          .get())))
          .containsEntry("status", "Healthy");
      String jaas = secretValue(kube, ns, "alice", "sasl.jaas.config");
      assertThat(jaas).contains("username=\"alice\"");
      try (Admin alice = Admin.create(ClusterFixtures.scramClient(port, jaas))) {
        assertThat(alice.describeTopics(List.of("payments")).allTopicNames().get())
            .containsKey("payments");
        assertThat(
                ClusterFixtures.cause(
                    () -> alice.describeTopics(List.of("ledger")).allTopicNames().get()))
            .isInstanceOf(TopicAuthorizationException.class);
      }
      assertThat(acls(admin, "alice")).isEqualTo(3);

      // One rule less: the operator deletes what the spec no longer has.
      DisklessKafkaUser user =
          kube.resources(DisklessKafkaUser.class).inNamespace(ns).withName("alice").get();
      user.getSpec().authorization.acls.remove(1);
      kube.resource(user).inNamespace(ns).unlock().update();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(acls(admin, "alice")).isEqualTo(2));

      kube.resources(DisklessKafkaUser.class).inNamespace(ns).withName("alice").delete();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(acls(admin, "alice")).isZero();
                assertThat(admin.describeUserScramCredentials().all().get().keySet())
                    .doesNotContain("alice");
              });
      // The finalizer goes at the reconcile after the removal.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(
                          kube.resources(DisklessKafkaUser.class)
                              .inNamespace(ns)
                              .withName("alice")
                              .get())
                      .isNull());
    }
  }

  /**
   * A DisklessKafkaTopic creates its topic with its partitions and configs, grows partitions, makes
   * the topic's configs exactly the spec's, refuses a decrease and a config the broker rejects with
   * conditions that say why, adopts an existing topic, and deletes the topic only with
   * deletionPolicy Delete.
   */
  @Test
  void aUserNamedAsTheOperatorsOwnUserIsRefusedAndTheOperatorKeepsItsCredential() throws Exception {
    try (KubernetesClient kube = KubeControlPlane.get().adminClient()) {
      String ns = clusterNamespace(kube);
      ClusterFixtures.apply(
          kube,
          ns,
          """
          apiVersion: diskless.dev/v1alpha1
          kind: DisklessKafkaUser
          metadata:
            name: diskless-operator
          spec:
            cluster: orders
            authentication: {type: tls}
            authorization:
              acls:
                - resource: {type: topic, name: payments}
                  operations: [Read]
          """);
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () ->
                  assertThat(
                          ClusterFixtures.ready(
                              kube.resources(DisklessKafkaUser.class)
                                  .inNamespace(ns)
                                  .withName("diskless-operator")
                                  .get()
                                  .getStatus()
                                  .conditions))
                      .startsWith("False ReservedName"));
      assertThat(kube.secrets().inNamespace(ns).withName("diskless-operator").get()).isNull();
      kube.resources(DisklessKafkaUser.class)
          .inNamespace(ns)
          .withName("diskless-operator")
          .delete();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  kube.resources(DisklessKafkaUser.class)
                          .inNamespace(ns)
                          .withName("diskless-operator")
                          .get()
                      == null);
    }
    // Nothing was registered or removed under the name: the operator still logs in.
    try (Admin admin = Admin.create(operator())) {
      assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).isNotEmpty();
      assertThat(admin.describeUserScramCredentials().all().get()).containsKey("diskless-operator");
    }
  }

  @Test
  void aTopicResourceCreatesGrowsAndConfiguresItsTopic() throws Exception {
    try (KubernetesClient kube = KubeControlPlane.get().adminClient();
        Admin admin = Admin.create(operator())) {
      String ns = clusterNamespace(kube);
      ClusterFixtures.apply(
          kube,
          ns,
          """
          apiVersion: diskless.dev/v1alpha1
          kind: DisklessKafkaTopic
          metadata:
            name: orders-events
          spec:
            cluster: orders
            topicName: Orders.Events
            partitions: 3
            configs: {retention.ms: "86400000", cleanup.policy: compact}
            deletionPolicy: Delete
          """);
      await()
          .atMost(Duration.ofSeconds(90))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(topicReady(kube, ns, "orders-events")).startsWith("True");
                assertThat(partitions(admin, "Orders.Events")).isEqualTo(3);
                assertThat(topicConfigs(admin, "Orders.Events"))
                    .containsEntry("retention.ms", "86400000")
                    .containsEntry("cleanup.policy", "compact");
              });
      assertThat(ArgoHealthCheckTest.userTopicHealth(live(kube, topic(kube, ns, "orders-events"))))
          .containsEntry("status", "Healthy");
      var status = topic(kube, ns, "orders-events").getStatus();
      assertThat(status.topicName).isEqualTo("Orders.Events");
      assertThat(status.topicId).isNotBlank();

      // More partitions, one config changed, one dropped: the spec owns the topic's configs.
      DisklessKafkaTopic t = topic(kube, ns, "orders-events");
      t.getSpec().partitions = 5;
      t.getSpec().configs = new java.util.TreeMap<>(Map.of("retention.ms", "3600000"));
      kube.resource(t).inNamespace(ns).unlock().update();
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(partitions(admin, "Orders.Events")).isEqualTo(5);
                assertThat(topicConfigs(admin, "Orders.Events"))
                    .containsEntry("retention.ms", "3600000")
                    .doesNotContainKey("cleanup.policy");
                assertThat(topicReady(kube, ns, "orders-events")).startsWith("True");
              });

      // Fewer partitions, and a config the broker refuses: each said in the condition.
      t = topic(kube, ns, "orders-events");
      t.getSpec().partitions = 2;
      kube.resource(t).inNamespace(ns).unlock().update();
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () ->
                  assertThat(topicReady(kube, ns, "orders-events"))
                      .startsWith("False PartitionDecreaseRefused")
                      .contains("at least 5"));
      assertThat(ArgoHealthCheckTest.userTopicHealth(live(kube, topic(kube, ns, "orders-events"))))
          .containsEntry("status", "Degraded")
          .extractingByKey("message")
          .asString()
          .contains("at least 5");
      t = topic(kube, ns, "orders-events");
      t.getSpec().partitions = 5;
      t.getSpec().configs = new java.util.TreeMap<>(Map.of("retention.ms", "soon"));
      kube.resource(t).inNamespace(ns).unlock().update();
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () ->
                  assertThat(topicReady(kube, ns, "orders-events"))
                      .startsWith("False ConfigRefused")
                      .contains("retention.ms"));

      // An existing topic is adopted; Retain keeps it when the resource goes.
      admin.createTopics(List.of(new NewTopic("audit", 2, (short) 1))).all().get();
      ClusterFixtures.apply(
          kube,
          ns,
          """
          apiVersion: diskless.dev/v1alpha1
          kind: DisklessKafkaTopic
          metadata:
            name: audit
          spec:
            cluster: orders
            partitions: 4
          """);
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(topicReady(kube, ns, "audit")).startsWith("True");
                assertThat(partitions(admin, "audit")).isEqualTo(4);
              });
      kube.resources(DisklessKafkaTopic.class).inNamespace(ns).withName("audit").delete();
      kube.resources(DisklessKafkaTopic.class).inNamespace(ns).withName("orders-events").delete();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(admin.listTopics().names().get())
                    .contains("audit")
                    .doesNotContain("Orders.Events");
                assertThat(
                        kube.resources(DisklessKafkaTopic.class).inNamespace(ns).list().getItems())
                    .isEmpty();
              });
    }
  }

  /** A live object as ArgoCD's health scripts get it: its JSON as maps. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> live(KubernetesClient kube, Object resource) {
    return kube.getKubernetesSerialization().convertValue(resource, Map.class);
  }

  private static DisklessKafkaTopic topic(KubernetesClient kube, String ns, String name) {
    return kube.resources(DisklessKafkaTopic.class).inNamespace(ns).withName(name).get();
  }

  private static String topicReady(KubernetesClient kube, String ns, String name) {
    return ClusterFixtures.ready(topic(kube, ns, name).getStatus().conditions);
  }

  private static int partitions(Admin admin, String topic) throws Exception {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get()
        .get(topic)
        .partitions()
        .size();
  }

  private static Map<String, String> topicConfigs(Admin admin, String topic) throws Exception {
    var resource =
        new org.apache.kafka.common.config.ConfigResource(
            org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
    Map<String, String> out = new HashMap<>();
    for (var e : admin.describeConfigs(List.of(resource)).all().get().get(resource).entries()) {
      if (e.source()
          == org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
        out.put(e.name(), e.value());
      }
    }
    return out;
  }

  private static String ready(KubernetesClient kube, String ns) {
    DisklessKafkaUser user =
        kube.resources(DisklessKafkaUser.class).inNamespace(ns).withName("alice").get();
    return user.getStatus().conditions.stream()
        .filter(c -> c.getType().equals("Ready"))
        .findFirst()
        .orElseThrow()
        .getStatus();
  }

  private static String secretValue(KubernetesClient kube, String ns, String name, String key) {
    return new String(
        Base64.getDecoder()
            .decode(kube.secrets().inNamespace(ns).withName(name).get().getData().get(key)),
        StandardCharsets.UTF_8);
  }

  private static int acls(Admin admin, String user) throws Exception {
    return admin
        .describeAcls(
            new AclBindingFilter(
                ResourcePatternFilter.ANY,
                new AccessControlEntryFilter(
                    "User:" + user, null, AclOperation.ANY, AclPermissionType.ANY)))
        .values()
        .get()
        .size();
  }
}
