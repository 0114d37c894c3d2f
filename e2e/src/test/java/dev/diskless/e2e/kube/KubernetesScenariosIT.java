package dev.diskless.e2e.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The product on a local Kubernetes: the operator installed from its Helm chart and run by the
 * process kubelet from its image's entrypoint, a DisklessKafkaCluster from examples/ applied to the
 * API server, its brokers run by the same kubelet, Kafka clients producing and consuming through
 * the bootstrap Service.
 */
class KubernetesScenariosIT {

  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final String ACCESS_KEY = "e2e-access";
  private static final String SECRET_KEY = "e2e-secret";

  private static LocalKubernetes kube;
  private static S3Proxy s3;
  private static EmbeddedPostgres pg;

  @BeforeAll
  static void setUp() throws Exception {
    Path blobs = Files.createTempDirectory("e2e-s3");
    s3 =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(blobs.toString()))
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    s3.start();
    while (!"STARTED".equals(s3.getState())) {
      Thread.sleep(10);
    }
    pg = EmbeddedPostgres.builder().start();
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      c.createStatement().execute("CREATE DATABASE orders_kafka");
    }
    kube = LocalKubernetes.start(REPO);
    kube.expose(s3.getPort());
    kube.expose(pg.getPort());
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (kube != null) {
      kube.close();
    }
    if (s3 != null) {
      s3.stop();
    }
    if (pg != null) {
      pg.close();
    }
  }

  private static void installOperator(KubernetesClient client) throws Exception {
    for (Path crd : Files.list(REPO.resolve("crds")).toList()) {
      client.load(Files.newInputStream(crd)).serverSideApply();
    }
    String ns = "diskless-system";
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .serverSideApply();
    String rendered =
        new Helm(REPO.resolve("helm/diskless-operator"))
            .template()
            .withName("diskless")
            .withNamespace(ns)
            .call();
    for (HasMetadata o :
        client.load(new ByteArrayInputStream(rendered.getBytes(StandardCharsets.UTF_8))).items()) {
      client.resource(o).inNamespace(ns).forceConflicts().serverSideApply();
    }
  }

  private static void applyExample(KubernetesClient client, String ns) throws Exception {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .serverSideApply();
    client
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("orders-s3")
                .endMetadata()
                .addToStringData("AWS_ACCESS_KEY_ID", ACCESS_KEY)
                .addToStringData("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
                .build())
        .serverSideApply();
    client
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("orders-db")
                .endMetadata()
                .addToStringData("username", "postgres")
                .addToStringData("password", "unused")
                .build())
        .serverSideApply();
    GenericKubernetesResource cluster =
        client
            .getKubernetesSerialization()
            .unmarshal(
                Files.readString(REPO.resolve("examples/minimal.yaml")),
                GenericKubernetesResource.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) cluster.getAdditionalProperties().get("spec");
    @SuppressWarnings("unchecked")
    Map<String, Object> store = (Map<String, Object>) spec.get("objectStore");
    // The example points at AWS and a database Service; here both run beside the node.
    store.put("endpoint", "http://" + kube.nodeAddress() + ":" + s3.getPort());
    store.put("pathStyle", true);
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) spec.get("metadata");
    metadata.put(
        "jdbcUrl",
        "jdbc:postgresql://" + kube.nodeAddress() + ":" + pg.getPort() + "/orders_kafka");
    client.resource(cluster).inNamespace(ns).create();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> status(KubernetesClient client, String ns) {
    GenericKubernetesResource c =
        client
            .genericKubernetesResources("diskless.dev/v1alpha1", "DisklessKafkaCluster")
            .inNamespace(ns)
            .withName("orders")
            .get();
    return c == null
        ? Map.of()
        : (Map<String, Object>) c.getAdditionalProperties().getOrDefault("status", Map.of());
  }

  @SuppressWarnings("unchecked")
  private static String condition(Map<String, Object> status, String type) {
    for (Map<String, Object> c :
        (List<Map<String, Object>>) status.getOrDefault("conditions", List.of())) {
      if (type.equals(c.get("type"))) {
        return c.get("status") + " " + c.get("reason") + ": " + c.get("message");
      }
    }
    return "absent";
  }

  private static boolean hasKcat() {
    try {
      return new ProcessBuilder("kcat", "-V").redirectErrorStream(true).start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void aClusterFromTheExampleServesKafkaClientsThroughItsBootstrapService() throws Exception {
    KubernetesClient client = kube.client();
    long t0 = System.nanoTime();
    installOperator(client);
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .apps()
                            .deployments()
                            .inNamespace("diskless-system")
                            .withName("diskless")
                            .get()
                            .getStatus()
                            .getReadyReplicas())
                    .isEqualTo(1));
    long operatorReady = System.nanoTime();
    String ns = "kafka";
    applyExample(client, ns);
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              Map<String, Object> st = status(client, ns);
              assertThat(condition(st, "Ready")).as(st.toString()).startsWith("True");
              assertThat(st.get("readyBrokers")).isEqualTo(3);
            });
    long clusterReady = System.nanoTime();
    String clusterIp =
        client
            .services()
            .inNamespace(ns)
            .withName("orders-bootstrap")
            .get()
            .getSpec()
            .getClusterIP();
    String bootstrap = clusterIp + ":9092";

    String topic = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin
          .createTopics(List.of(new NewTopic(topic, 6, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
      assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(3);
    }
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    List<String> sent = new ArrayList<>();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        String v = "record-" + i;
        acks.add(producer.send(new ProducerRecord<>(topic, Integer.toString(i), v)));
        sent.add(v);
      }
      for (var ack : acks) {
        ack.get(60, TimeUnit.SECONDS);
      }
    }
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "e2e");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<String> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (received.size() < sent.size() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          received.add(r.value());
        }
      }
    }
    assertThat(received).containsExactlyInAnyOrderElementsOf(sent);

    // A second client implementation, librdkafka's kcat, through the same Service.
    boolean kcat = hasKcat();
    if (!kcat && "1".equals(System.getenv("DISKLESS_REQUIRE_KCAT"))) {
      throw new AssertionError("kcat is required (DISKLESS_REQUIRE_KCAT=1) but not on PATH");
    }
    if (kcat) {
      Process produce =
          new ProcessBuilder("kcat", "-b", bootstrap, "-t", topic, "-P", "-K:")
              .redirectErrorStream(true)
              .start();
      produce.getOutputStream().write("k:from-kcat\n".getBytes(StandardCharsets.UTF_8));
      produce.getOutputStream().close();
      assertThat(produce.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(produce.exitValue())
          .as(new String(produce.getInputStream().readAllBytes()))
          .isZero();
      Process consume =
          new ProcessBuilder("kcat", "-b", bootstrap, "-t", topic, "-C", "-e", "-q", "-f", "%s\\n")
              .redirectErrorStream(true)
              .start();
      String out = new String(consume.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(consume.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(out.lines().toList())
          .contains("from-kcat", "record-0", "record-999")
          .hasSize(1001);
    }
    System.out.printf(
        "scenario a: operator ready %d s after install; cluster Ready with 3 brokers %d s after apply;"
            + " 1000 records produced and consumed through %s%s%n",
        TimeUnit.NANOSECONDS.toSeconds(operatorReady - t0),
        TimeUnit.NANOSECONDS.toSeconds(clusterReady - operatorReady),
        bootstrap,
        kcat ? ", kcat too" : " (kcat not installed)");
  }
}
