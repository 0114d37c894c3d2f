package dev.diskless.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed CRD on a real kube-apiserver: a valid cluster is accepted with its defaults filled
 * in, and every schema rule refuses a bad spec at apply time with a message that names the field.
 */
class CustomResourceValidationIT {

  private static KubernetesClient client;
  private static String namespace;

  private static final String VALID =
      """
      apiVersion: diskless.dev/v1alpha1
      kind: DisklessKafkaCluster
      metadata:
        name: NAME
      spec:
        objectStore:
          bucket: diskless-data
        metadata:
          jdbcUrl: jdbc:postgresql://db:5432/diskless
          credentialsSecret:
            name: db-credentials
      """;

  @BeforeAll
  static void installCrd() throws Exception {
    client = KubeControlPlane.get().adminClient();
    KubeApiServerResource.installCrd(client);
    namespace = KubeControlPlane.get().newNamespace(client);
  }

  @AfterAll
  static void close() {
    if (client != null) {
      client.close();
    }
  }

  private static GenericKubernetesResource create(String yaml) {
    GenericKubernetesResource r =
        client.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class);
    return client.resource(r).inNamespace(namespace).create();
  }

  @SuppressWarnings("unchecked")
  @Test
  void aMinimalClusterIsAcceptedWithItsDefaults() {
    GenericKubernetesResource created = create(VALID.replace("NAME", "minimal"));
    Map<String, Object> spec = (Map<String, Object>) created.getAdditionalProperties().get("spec");
    assertThat((Map<String, Object>) spec.get("brokers")).containsEntry("replicas", 3);
    assertThat((Map<String, Object>) spec.get("wal")).containsEntry("type", "object");
    assertThat((Map<String, Object>) spec.get("objectStore"))
        .containsEntry("region", "us-east-1")
        .containsEntry("deletionPolicy", "Retain")
        .containsEntry("createIfMissing", true);
    assertThat((Map<String, Object>) spec.get("listeners"))
        .containsEntry("kafkaPort", 9092)
        .containsEntry("httpPort", 8080);
  }

  @Test
  void namedListenersWithTlsAuthenticationAndAclsAreAccepted() {
    create(
        VALID
            .replace("NAME", "secure")
            .replace(
                "spec:\n",
                """
                spec:
                  authorization:
                    type: simple
                    superUsers: [User:platform-admin]
                  listeners:
                    interBroker: internal
                    kafka:
                      - name: external
                        port: 9094
                        tls: {secretName: broker-tls}
                        authentication: {type: scram-sha-512}
                      - name: internal
                        port: 9092
                        authentication: {type: scram-sha-512}
                      - name: mtls
                        port: 9095
                        tls: {secretName: broker-tls}
                        authentication: {type: tls}
                """));
  }

  /** Autoscaling on, with what it needs: bounds and a CPU request to measure against. */
  static final String AUTOSCALED =
      VALID.replace(
          "spec:\n",
          """
          spec:
            brokers:
              resources:
                requests:
                  cpu: "2"
            autoscaling:
              enabled: true
              minBrokers: 3
              maxBrokers: 6
          """);

  @SuppressWarnings("unchecked")
  @Test
  void anAutoscaledClusterIsAcceptedWithItsDefaults() {
    GenericKubernetesResource created = create(AUTOSCALED.replace("NAME", "autoscaled"));
    Map<String, Object> spec = (Map<String, Object>) created.getAdditionalProperties().get("spec");
    Map<String, Object> autoscaling = (Map<String, Object>) spec.get("autoscaling");
    assertThat(autoscaling)
        .containsEntry("enabled", true)
        .containsEntry("minBrokers", 3)
        .containsEntry("maxBrokers", 6)
        .containsEntry("targetCpuUtilization", 60)
        .containsEntry("scaleUp", Map.of("stabilizationWindowSeconds", 60, "maxBrokersPerStep", 4))
        .containsEntry("scaleDown", Map.of("stabilizationWindowSeconds", 600));
  }

  @SuppressWarnings("unchecked")
  @Test
  void autoscalingIsOffByDefaultAndNeedsNothingThen() {
    GenericKubernetesResource created =
        create(
            VALID
                .replace("NAME", "not-autoscaled")
                .replace("spec:\n", "spec:\n  autoscaling:\n    maxBrokers: 4\n"));
    Map<String, Object> spec = (Map<String, Object>) created.getAdditionalProperties().get("spec");
    assertThat((Map<String, Object>) spec.get("autoscaling"))
        .containsEntry("enabled", false)
        .containsEntry("maxBrokers", 4)
        .doesNotContainKey("minBrokers");
  }

  /** Three zones, three brokers, autoscaled between 3 and 6. */
  static final String ZONED =
      AUTOSCALED.replace("  brokers:\n", "  brokers:\n    zones: [zone-a, zone-b, zone-c]\n");

  @SuppressWarnings("unchecked")
  @Test
  void aZonedClusterIsAccepted() {
    GenericKubernetesResource created = create(ZONED.replace("NAME", "zoned"));
    Map<String, Object> spec = (Map<String, Object>) created.getAdditionalProperties().get("spec");
    assertThat((Map<String, Object>) spec.get("brokers"))
        .containsEntry("zones", java.util.List.of("zone-a", "zone-b", "zone-c"))
        .containsEntry("replicas", 3);
  }

  @Test
  void theWalTypeCannotChangeOnceTheClusterExists() {
    create(VALID.replace("NAME", "fixed-wal"));
    assertThatThrownBy(
            () ->
                client
                    .genericKubernetesResources("diskless.dev/v1alpha1", "DisklessKafkaCluster")
                    .inNamespace(namespace)
                    .withName("fixed-wal")
                    // A merge patch carries no resourceVersion: a status write of a running
                    // operator cannot turn this into a conflict instead of the CEL refusal.
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        """
                        {"spec": {"wal": {"type": "volume",
                          "volume": {"storageClassName": "nfs", "size": "1Gi"}}}}
                        """))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("wal.type cannot change once the cluster exists");
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of(
            "no brokers",
            VALID.replace("spec:\n", "spec:\n  brokers:\n    replicas: 0\n"),
            "spec.brokers.replicas"),
        Arguments.of(
            "too many brokers",
            VALID.replace("spec:\n", "spec:\n  brokers:\n    replicas: 5000\n"),
            "spec.brokers.replicas"),
        Arguments.of(
            "bad bucket name",
            VALID.replace("bucket: diskless-data", "bucket: Bad_Bucket"),
            "spec.objectStore.bucket"),
        Arguments.of(
            "no object store",
            VALID.replace("  objectStore:\n    bucket: diskless-data\n", ""),
            "spec.objectStore: Required value"),
        Arguments.of(
            "endpoint without scheme",
            VALID.replace("bucket: diskless-data", "bucket: diskless-data\n    endpoint: s3.local"),
            "spec.objectStore.endpoint"),
        Arguments.of(
            "unknown deletion policy",
            VALID.replace(
                "bucket: diskless-data", "bucket: diskless-data\n    deletionPolicy: Keep"),
            "spec.objectStore.deletionPolicy"),
        Arguments.of(
            "not a PostgreSQL URL",
            VALID.replace("jdbc:postgresql://db:5432/diskless", "jdbc:mysql://db/x"),
            "spec.metadata.jdbcUrl"),
        Arguments.of(
            "no database credentials",
            VALID.replace("    credentialsSecret:\n      name: db-credentials\n", ""),
            "spec.metadata.credentialsSecret: Required value"),
        Arguments.of(
            "volume WAL without a volume",
            VALID.replace("spec:\n", "spec:\n  wal:\n    type: volume\n"),
            "wal.volume is required when wal.type is volume"),
        Arguments.of(
            "object WAL with a volume",
            VALID.replace(
                "spec:\n",
                "spec:\n  wal:\n    type: object\n    volume:\n      storageClassName: nfs\n"
                    + "      size: 10Gi\n"),
            "wal.volume is required when wal.type is volume, and allowed only then"),
        Arguments.of(
            "unknown WAL type",
            VALID.replace("spec:\n", "spec:\n  wal:\n    type: disk\n"),
            "spec.wal.type"),
        Arguments.of(
            "volume without storage class",
            VALID.replace(
                "spec:\n", "spec:\n  wal:\n    type: volume\n    volume:\n      size: 1Gi\n"),
            "spec.wal.volume.storageClassName: Required value"),
        Arguments.of(
            "unknown broker setting",
            VALID.replace("spec:\n", "spec:\n  brokers:\n    config:\n      log.dirs: /data\n"),
            "brokers.config accepts only these keys"),
        Arguments.of(
            "one port for both listeners",
            VALID.replace(
                "spec:\n", "spec:\n  listeners:\n    kafkaPort: 9000\n    httpPort: 9000\n"),
            "listeners.kafkaPort and listeners.httpPort must differ"),
        Arguments.of(
            "privileged port",
            VALID.replace("spec:\n", "spec:\n  listeners:\n    kafkaPort: 80\n"),
            "spec.listeners.kafkaPort"),
        Arguments.of(
            "two listeners with one name",
            VALID.replace(
                "spec:\n",
                "spec:\n  listeners:\n    kafka:\n      - {name: a, port: 9092}\n"
                    + "      - {name: a, port: 9093}\n"),
            "listeners.kafka: each listener needs a name of its own"),
        Arguments.of(
            "a listener on the metrics port",
            VALID.replace(
                "spec:\n", "spec:\n  listeners:\n    kafka:\n      - {name: a, port: 8080}\n"),
            "listeners.kafka: a listener cannot use httpPort"),
        Arguments.of(
            "a listener named http",
            VALID.replace(
                "spec:\n", "spec:\n  listeners:\n    kafka:\n      - {name: http, port: 9092}\n"),
            "http is the name of the metrics port"),
        Arguments.of(
            "client certificates without tls",
            VALID.replace(
                "spec:\n",
                "spec:\n  listeners:\n    kafka:\n"
                    + "      - {name: a, port: 9092, authentication: {type: tls}}\n"),
            "authentication type tls (client certificates) needs tls on the same listener"),
        Arguments.of(
            "PLAIN without tls",
            VALID.replace(
                "spec:\n",
                "spec:\n  listeners:\n    kafka:\n"
                    + "      - {name: a, port: 9092, authentication: {type: plain}}\n"),
            "authentication type plain sends passwords as they are: it needs tls"),
        Arguments.of(
            "TLS on the inter-broker listener",
            VALID.replace(
                "spec:\n",
                "spec:\n  listeners:\n    kafka:\n"
                    + "      - {name: a, port: 9092, tls: {secretName: t}}\n"
                    + "      - {name: b, port: 9093}\n"),
            "the inter-broker listener (listeners.interBroker, else the first of listeners.kafka)"
                + " cannot use tls"),
        Arguments.of(
            "an unknown inter-broker listener",
            VALID.replace(
                "spec:\n",
                "spec:\n  listeners:\n    interBroker: b\n    kafka:\n"
                    + "      - {name: a, port: 9092}\n"),
            "listeners.interBroker must name one of listeners.kafka"),
        Arguments.of(
            "ACLs with an unauthenticated inter-broker listener",
            VALID.replace(
                "spec:\n",
                "spec:\n  authorization: {type: simple}\n  listeners:\n    kafka:\n"
                    + "      - {name: a, port: 9092}\n"
                    + "      - {name: b, port: 9093, authentication: {type: scram-sha-512}}\n"),
            "authorization needs an inter-broker listener"),
        Arguments.of(
            "a super user that is not a principal",
            VALID.replace(
                "spec:\n",
                "spec:\n  authorization: {type: simple, superUsers: [alice]}\n"
                    + "  listeners:\n    kafka:\n"
                    + "      - {name: a, port: 9092, authentication: {type: scram-sha-512}}\n"),
            "superUsers entries are principals like User:alice"),
        Arguments.of(
            "autoscaling without bounds",
            AUTOSCALED.replace("    minBrokers: 3\n    maxBrokers: 6\n", ""),
            "autoscaling.minBrokers and autoscaling.maxBrokers are required when"
                + " autoscaling.enabled is true"),
        Arguments.of(
            "autoscaling without maxBrokers",
            AUTOSCALED.replace("    maxBrokers: 6\n", ""),
            "autoscaling.minBrokers and autoscaling.maxBrokers are required"),
        Arguments.of(
            "minBrokers above maxBrokers",
            AUTOSCALED.replace("minBrokers: 3", "minBrokers: 7"),
            "autoscaling.minBrokers must not exceed autoscaling.maxBrokers"),
        Arguments.of(
            "minBrokers zero",
            AUTOSCALED.replace("minBrokers: 3", "minBrokers: 0"),
            "spec.autoscaling.minBrokers"),
        Arguments.of(
            "maxBrokers above 1000",
            AUTOSCALED.replace("maxBrokers: 6", "maxBrokers: 1001"),
            "spec.autoscaling.maxBrokers"),
        Arguments.of(
            "target utilization zero",
            AUTOSCALED.replace("maxBrokers: 6\n", "maxBrokers: 6\n    targetCpuUtilization: 0\n"),
            "spec.autoscaling.targetCpuUtilization"),
        Arguments.of(
            "target utilization above the request",
            AUTOSCALED.replace("maxBrokers: 6\n", "maxBrokers: 6\n    targetCpuUtilization: 150\n"),
            "spec.autoscaling.targetCpuUtilization"),
        Arguments.of(
            "negative scale-up window",
            AUTOSCALED.replace(
                "maxBrokers: 6\n",
                "maxBrokers: 6\n    scaleUp:\n      stabilizationWindowSeconds: -1\n"),
            "spec.autoscaling.scaleUp.stabilizationWindowSeconds"),
        Arguments.of(
            "scale-down window above a day",
            AUTOSCALED.replace(
                "maxBrokers: 6\n",
                "maxBrokers: 6\n    scaleDown:\n      stabilizationWindowSeconds: 86401\n"),
            "spec.autoscaling.scaleDown.stabilizationWindowSeconds"),
        Arguments.of(
            "autoscaling without resources",
            AUTOSCALED.replace(
                "  brokers:\n    resources:\n      requests:\n        cpu: \"2\"\n", ""),
            "brokers.resources.requests.cpu is required when autoscaling.enabled is true"),
        Arguments.of(
            "a zone listed twice",
            ZONED.replace("zone-c]", "zone-a]"),
            "brokers.zones must not list a zone twice"),
        Arguments.of(
            "a zone that is no DNS label",
            ZONED.replace("zone-c]", "Zone_C]"),
            "brokers.zones: each zone must be a DNS label"),
        Arguments.of(
            "a zone longer than 63 characters",
            ZONED.replace("zone-c]", "z".repeat(64) + "]"),
            "spec.brokers.zones[2]"),
        Arguments.of(
            "eleven zones",
            VALID.replace(
                "spec:\n",
                "spec:\n  brokers:\n    replicas: 11\n    zones: [z0, z1, z2, z3, z4, z5, z6, z7, z8,"
                    + " z9, z10]\n"),
            "spec.brokers.zones"),
        Arguments.of(
            "fewer brokers than zones",
            VALID.replace("spec:\n", "spec:\n  brokers:\n    replicas: 2\n    zones: [a, b, c]\n"),
            "brokers.replicas must be at least the number of brokers.zones"),
        Arguments.of(
            "minBrokers below the number of zones",
            ZONED.replace("minBrokers: 3", "minBrokers: 2"),
            "autoscaling.minBrokers must be at least the number of brokers.zones"),
        Arguments.of(
            "a scale-out step of zero",
            AUTOSCALED.replace(
                "maxBrokers: 6\n", "maxBrokers: 6\n    scaleUp:\n      maxBrokersPerStep: 0\n"),
            "spec.autoscaling.scaleUp.maxBrokersPerStep"),
        Arguments.of(
            "autoscaling with a memory request only",
            AUTOSCALED.replace("cpu: \"2\"", "memory: 2Gi"),
            "brokers.resources.requests.cpu is required when autoscaling.enabled is true"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void anInvalidSpecIsRefusedAtApplyNamingTheField(String name, String yaml, String message) {
    String resource = yaml.replace("NAME", "bad-" + Math.abs(name.hashCode()));
    assertThatThrownBy(() -> create(resource))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining(message);
  }
}
