package dev.diskless.e2e.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import dev.diskless.storage.testing.S3ProxyFixture;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The product on a local Kubernetes: the operator installed from its Helm chart and run by the
 * process kubelet from its image's entrypoint, a DisklessKafkaCluster from examples/ applied to the
 * API server, its brokers run by the same kubelet, Kafka clients producing and consuming through
 * the bootstrap Service.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesScenariosIT {

  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final String ACCESS_KEY = S3ProxyFixture.ACCESS_KEY;
  private static final String SECRET_KEY = S3ProxyFixture.SECRET_KEY;

  private static LocalKubernetes kube;
  private static S3ProxyFixture s3;
  private static EmbeddedPostgres pg;
  private static Path blobs;

  /** The bootstrap Service's ClusterIP and port, once scenario a made the cluster. */
  private static String bootstrap;

  private static final String NS = "kafka";

  /** The autoscale scenario's broker CPU request, target and load (see its Javadoc). */
  private static final String BROKER_CPU_REQUEST = "350m";

  private static final int TARGET_CPU = 50;
  private static final int LOAD_RECORDS_PER_SECOND = 4000;

  @BeforeAll
  static void setUp() throws Exception {
    s3 = S3ProxyFixture.start();
    blobs = s3.directory();
    pg = EmbeddedPostgres.builder().start();
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      c.createStatement().execute("CREATE DATABASE orders_kafka");
    }
    kube = LocalKubernetes.start(REPO);
    kube.expose(s3.port());
    kube.expose(pg.getPort());
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (kube != null) {
      kube.close();
    }
    if (s3 != null) {
      s3.close();
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
      if (o instanceof Deployment d) {
        // The autoscale scenario decides within seconds: sample every 2 s, rate over 10 s (the
        // defaults, 15 s and 60 s, would make it take minutes). Quarkus reads them from env.
        var env = d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
        env.add(new EnvVar("DISKLESS_OPERATOR_AUTOSCALING_SAMPLE_INTERVAL", "2s", null));
        env.add(new EnvVar("DISKLESS_OPERATOR_AUTOSCALING_CPU_WINDOW", "10s", null));
        // Pods here have no DNS server: the Kafka client's SASL login looks the broker's address
        // up by name (a reverse lookup, which cluster DNS answers at once) and would wait out the
        // resolver's timeouts; a hosts file answers at once.
        env.add(new EnvVar("JAVA_TOOL_OPTIONS", "-Djdk.net.hosts.file=/etc/hosts", null));
      }
      client.resource(o).inNamespace(ns).forceConflicts().serverSideApply();
    }
  }

  /**
   * Applies an example cluster named {@code name} with its two Secrets ({@code name}-s3, {@code
   * name}-db), its object store and database pointed at S3Proxy and PostgreSQL beside the node;
   * {@code adjust} changes the rest of its spec.
   */
  private static void applyExample(
      KubernetesClient client,
      String example,
      String ns,
      String name,
      java.util.function.Consumer<Map<String, Object>> adjust)
      throws Exception {
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
                .withName(name + "-s3")
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
                .withName(name + "-db")
                .endMetadata()
                .addToStringData("username", "postgres")
                .addToStringData("password", "unused")
                .build())
        .serverSideApply();
    GenericKubernetesResource cluster =
        client
            .getKubernetesSerialization()
            .unmarshal(
                Files.readString(REPO.resolve("examples").resolve(example)),
                GenericKubernetesResource.class);
    // Named as the caller says, with the Secrets made above.
    cluster.getMetadata().setName(name);
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) cluster.getAdditionalProperties().get("spec");
    @SuppressWarnings("unchecked")
    Map<String, Object> store = (Map<String, Object>) spec.get("objectStore");
    store.put("credentialsSecret", Map.of("name", name + "-s3"));
    // The examples point at AWS and a database Service; here both run beside the node.
    store.put("endpoint", "http://" + kube.nodeAddress() + ":" + s3.port());
    store.put("pathStyle", true);
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) spec.get("metadata");
    metadata.put(
        "jdbcUrl",
        "jdbc:postgresql://" + kube.nodeAddress() + ":" + pg.getPort() + "/" + name + "_kafka");
    metadata.put("credentialsSecret", Map.of("name", name + "-db"));
    adjust.accept(spec);
    client.resource(cluster).inNamespace(ns).create();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> status(KubernetesClient client, String ns, String name) {
    GenericKubernetesResource c =
        client
            .genericKubernetesResources("diskless.dev/v1alpha1", "DisklessKafkaCluster")
            .inNamespace(ns)
            .withName(name)
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
  @Order(1)
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
    applyExample(client, "minimal.yaml", ns, "orders", spec -> {});
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              Map<String, Object> st = status(client, ns, "orders");
              assertThat(condition(st, "Ready")).as(st.toString()).startsWith("True");
              assertThat(st.get("readyBrokers")).isEqualTo(3);
            });
    long clusterReady = System.nanoTime();
    Map<String, Integer> zones = brokerZones(ns, BROKERS);
    var service = kube.serviceAddress(ns, "orders-bootstrap", 9092);
    bootstrap = service.getHostString() + ":" + service.getPort();

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
        "scenario a (%s): operator ready %d s after install; cluster Ready with 3 brokers %d s after apply,"
            + " brokers by zone %s; 1000 records produced and consumed through %s%s%n",
        kube.networkKind(),
        TimeUnit.NANOSECONDS.toSeconds(operatorReady - t0),
        TimeUnit.NANOSECONDS.toSeconds(clusterReady - operatorReady),
        zones,
        bootstrap,
        kcat ? ", kcat too" : " (kcat not installed)");
  }

  /**
   * The three Nodes carry their zones, and every broker pod carries its Node's zone and region as
   * labels, copied by the API server at binding (PodTopologyLabels admission, on by default since
   * 1.35): what a broker reads through the downward API as its rack. Returns pods per zone.
   */
  private static Map<String, Integer> brokerZones(String ns, String selector) {
    Map<String, Map<String, String>> nodeLabels = new java.util.TreeMap<>();
    kube.client()
        .nodes()
        .list()
        .getItems()
        .forEach(n -> nodeLabels.put(n.getMetadata().getName(), n.getMetadata().getLabels()));
    LocalKubernetes.ZONES.forEach(
        (node, zone) -> {
          assertThat(nodeLabels).containsKey(node);
          assertThat(nodeLabels.get(node))
              .containsEntry("topology.kubernetes.io/zone", zone)
              .containsEntry("topology.kubernetes.io/region", LocalKubernetes.REGION);
        });
    Map<String, Integer> byZone = new java.util.TreeMap<>();
    for (var p :
        kube.client().pods().inNamespace(ns).withLabelSelector(selector).list().getItems()) {
      Map<String, String> node = nodeLabels.get(p.getSpec().getNodeName());
      assertThat(p.getMetadata().getLabels())
          .as(
              "topology labels of pod %s on %s",
              p.getMetadata().getName(), p.getSpec().getNodeName())
          .containsEntry("topology.kubernetes.io/zone", node.get("topology.kubernetes.io/zone"))
          .containsEntry("topology.kubernetes.io/region", LocalKubernetes.REGION);
      byZone.merge(node.get("topology.kubernetes.io/zone"), 1, Integer::sum);
    }
    return byZone;
  }

  // ---- helpers for the scenarios after a ----

  private static final String BROKERS =
      "app.kubernetes.io/instance=orders,app.kubernetes.io/component=broker";

  private static List<Pod> brokerPods() {
    return kube.client().pods().inNamespace(NS).withLabelSelector(BROKERS).list().getItems();
  }

  private static boolean podReady(Pod p) {
    return p.getStatus() != null
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** Runs the real kubectl (built with the control plane) against the API server; its output. */
  private static String kubectl(String... args) throws Exception {
    Path bin =
        dev.diskless.kube.ControlPlaneBinaries.locate(
            REPO, "kubectl", System.getProperty("kube.bin"));
    List<String> command = new java.util.ArrayList<>();
    command.add(bin.resolve("kubectl").toString());
    command.add("--kubeconfig=" + kube.controlPlane().kubeconfig());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("%s: %s", command, out).isZero();
    return out;
  }

  /** A merge patch of the cluster's spec, as kubectl patch --type merge does. */
  private static void patchSpec(String json) {
    kube.client()
        .genericKubernetesResources("diskless.dev/v1alpha1", "DisklessKafkaCluster")
        .inNamespace(NS)
        .withName("orders")
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            "{\"spec\": " + json + "}");
  }

  /**
   * The Deployment has rolled out the current spec to {@code n} ready brokers and nothing else
   * runs.
   */
  private static boolean rolledOut(int n) {
    return rolledOut(NS, "orders", BROKERS, n);
  }

  private static boolean rolledOut(String ns, String cluster, String selector, int n) {
    var d = kube.client().apps().deployments().inNamespace(ns).withName(cluster + "-broker").get();
    var st = d.getStatus();
    return st != null
        && st.getObservedGeneration() != null
        && st.getObservedGeneration() >= d.getMetadata().getGeneration()
        && Integer.valueOf(n).equals(st.getUpdatedReplicas())
        && Integer.valueOf(n).equals(st.getReadyReplicas())
        && Integer.valueOf(n).equals(st.getReplicas())
        && kube.client().pods().inNamespace(ns).withLabelSelector(selector).list().getItems().size()
            == n;
  }

  /** Every broker pod of the new template ready and none still terminating. */
  private static boolean brokersSettled() {
    return rolledOut(3)
        && brokerPods().stream().noneMatch(p -> p.getMetadata().getDeletionTimestamp() != null);
  }

  /** Until a roll an earlier step started has finished. */
  private static void awaitBrokersSettled() {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(200))
        .until(KubernetesScenariosIT::brokersSettled);
  }

  private static long brokerDeploymentGeneration() {
    return kube.client()
        .apps()
        .deployments()
        .inNamespace(NS)
        .withName("orders-broker")
        .get()
        .getMetadata()
        .getGeneration();
  }

  /** Until the operator has written the brokers' Deployment after a spec change. */
  private static void awaitBrokerDeploymentChangedFrom(long generation) {
    await()
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> brokerDeploymentGeneration() > generation);
  }

  /**
   * kill -9 of the process of a pod's first container, as an OOM kill would; returns the
   * container's restart count before it.
   */
  private static int killContainer(Pod pod) {
    PodRunner runner = kube.runner(pod.getMetadata().getUid()).orElseThrow();
    long pid = runner.pid(pod.getSpec().getContainers().get(0).getName());
    int before = pod.getStatus().getContainerStatuses().get(0).getRestartCount();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    return before;
  }

  /**
   * What the last start of a pod's first container took by its own account (Quarkus' "started in"
   * line), which tells a slow JVM start from a slow restart or probe.
   */
  private static String lastStartup(Pod pod) throws IOException {
    PodRunner runner = kube.runner(pod.getMetadata().getUid()).orElseThrow();
    Path log = runner.logFile(pod.getSpec().getContainers().get(0).getName());
    Matcher last = null;
    for (String line : Files.readAllLines(log)) {
      Matcher m = STARTED_IN.matcher(line);
      if (m.find()) {
        last = m;
      }
    }
    return last == null ? "no start line in " + log : "process started in " + last.group(1) + " s";
  }

  private static final Pattern STARTED_IN = Pattern.compile("started in ([0-9.]+)s");

  /** Until the same pod (not a replacement) has restarted its container and is Ready again. */
  private static void awaitRestartedAndReady(Pod pod, int restartsBefore, Duration within) {
    String ns = pod.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    await()
        .atMost(within)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              var p = kube.client().pods().inNamespace(ns).withName(name).get();
              assertThat(p).as("pod %s still exists", name).isNotNull();
              return p.getStatus().getContainerStatuses().get(0).getRestartCount() > restartsBefore
                  && podReady(p);
            });
  }

  private static void createTopic(String topic, int partitions) throws Exception {
    createTopic(bootstrap, topic, partitions);
  }

  private static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin
          .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  /** Leaders of the topic's partitions by broker id. */
  private static Map<Integer, Integer> leaders(String topic) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      var d =
          admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
      Map<Integer, Integer> out = new java.util.TreeMap<>();
      for (var p : d.partitions()) {
        if (p.leader() != null) {
          out.merge(p.leader().id(), 1, Integer::sum);
        }
      }
      return out;
    }
  }

  /** Balanced over {@code brokers}: each leads some partition, counts differ by at most one. */
  private static boolean balanced(String topic, int brokers, int partitions) throws Exception {
    Map<Integer, Integer> l = leaders(topic);
    return l.size() == brokers
        && l.values().stream().mapToInt(Integer::intValue).sum() == partitions
        && java.util.Collections.max(l.values()) - java.util.Collections.min(l.values()) <= 1;
  }

  private static void produceBytes(String topic, long bytes) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 << 10));
    String value = "x".repeat(1024);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (long sent = 0; sent < bytes; sent += value.length()) {
        producer.send(new ProducerRecord<>(topic, value));
      }
      producer.flush();
    }
  }

  /**
   * Bytes under the S3Proxy directory in files modified after {@code since}. Objects the cleaner
   * deletes while the walk goes on count nothing: a walk that stopped at them failed a scenario.
   */
  private static long bytesWrittenSince(FileTime since) throws Exception {
    long[] bytes = {0};
    Files.walkFileTree(
        blobs,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
            if (a.isRegularFile() && a.lastModifiedTime().compareTo(since) > 0) {
              bytes[0] += a.size();
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path f, IOException gone) {
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException gone) {
            return FileVisitResult.CONTINUE;
          }
        });
    return bytes[0];
  }

  private static long bucketBytes() throws Exception {
    return bytesWrittenSince(FileTime.fromMillis(Long.MIN_VALUE));
  }

  /** Waits until nothing is written to the bucket for a while (compaction done, WAL flushed). */
  private static void awaitQuietBucket(Duration quiet) throws Exception {
    long last = -1;
    long since = System.nanoTime();
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (System.nanoTime() < deadline) {
      long now = bucketBytes();
      if (now != last) {
        last = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since >= quiet.toNanos()) {
        return;
      }
      Thread.sleep(1000);
    }
    throw new AssertionError("the bucket never went quiet");
  }

  private record Move(long millis, long bytesWritten, long retainedBytes, ScaleOutSplit split) {}

  /**
   * Scales to {@code to} brokers and times until the topic's partitions are spread over them, split
   * into its parts.
   */
  private static Move scaleAndBalance(String topic, int partitions, int to) throws Exception {
    awaitQuietBucket(Duration.ofSeconds(35));
    long retained = bucketBytes();
    var before = FileTime.from(java.time.Instant.now());
    try (PodMilestones pods = new PodMilestones(kube.client(), NS, BROKERS);
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      long t0 = System.nanoTime();
      patchSpec("{\"brokers\": {\"replicas\": " + to + "}}");
      ScaleOutSplit split =
          ScaleOutSplit.measure(
              t0, pods, admin, topic, partitions, () -> to, Duration.ofMinutes(4));
      await()
          .atMost(Duration.ofMinutes(4))
          .pollInterval(Duration.ofMillis(250))
          .ignoreExceptions()
          .until(() -> rolledOut(to) && balanced(topic, to, partitions));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      return new Move(millis, bytesWrittenSince(before), retained, split);
    }
  }

  /** Scenario c's end: 3 brokers rolled out and the workload's topic spread over them. */
  private static boolean scaledIn() {
    try {
      return rolledOut(3) && balanced("shrink", 3, 6);
    } catch (Exception notYet) {
      return false;
    }
  }

  // ---- scenarios ----

  /** e. A broker setting changed in the CR rolls the brokers one at a time, with surge. */
  @Test
  @Order(2)
  void aSettingChangeRollsTheBrokersOneAtATimeAndClientsSeeOnlyRetriableErrors() throws Exception {
    createTopic("roll", 6);
    try (ProduceWorkload w = new ProduceWorkload(bootstrap, "roll", 6, 200)) {
      Thread.sleep(2000);
      w.resetGap();
      long before = brokerDeploymentGeneration();
      long t0 = System.nanoTime();
      patchSpec("{\"brokers\": {\"config\": {\"wal.max.age.ms\": \"30\"}}}");
      int maxPods = 0;
      int maxAll = 0;
      int minReady = Integer.MAX_VALUE;
      // Until the operator has written the new template, the old rollout still looks finished.
      awaitBrokerDeploymentChangedFrom(before);
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (!brokersSettled()) {
        List<Pod> pods = brokerPods();
        // Terminating pods (draining) do not count against the surge, as in any cluster.
        maxPods =
            Math.max(
                maxPods,
                (int)
                    pods.stream()
                        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                        .count());
        maxAll = Math.max(maxAll, pods.size());
        minReady =
            Math.min(minReady, (int) pods.stream().filter(KubernetesScenariosIT::podReady).count());
        assertThat(System.nanoTime()).as("rollout finished in 5 min").isLessThan(deadline);
        Thread.sleep(200);
      }
      long rollSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      Thread.sleep(2000);
      var report = w.stopAndCheck();
      System.out.printf(
          "scenario e: settings change rolled 3 brokers in %d s; at most %d broker pods at once (%d counting"
              + " draining ones), never fewer than %d ready; client errors %s, producer retries %.0f, longest a"
              + " partition went without an ack %d ms; history %s%n",
          rollSeconds,
          maxPods,
          maxAll,
          minReady,
          w.errors(),
          w.retries(),
          w.longestGap().toMillis(),
          report);
      assertThat(report.anomalies()).isEmpty();
      assertThat(w.errors()).as("send failures seen by the client").isEmpty();
      assertThat(maxPods).isLessThanOrEqualTo(4);
      assertThat(minReady).isGreaterThanOrEqualTo(3);
    }
  }

  /**
   * g. kill -9 of the operator in the middle of a reconcile: right after it has written the
   * brokers' Deployment for a settings change, before it has reported the new generation. Its own
   * Deployment restarts it; the new process must take the cluster from what it observes to the new
   * generation (status observedGeneration, Ready, the roll finished), and clients lose nothing.
   */
  @Test
  @Order(3)
  void theOperatorKilledMidReconcileConvergesWhenItIsBack() throws Exception {
    createTopic("operator-kill", 6);
    awaitBrokersSettled();
    try (ProduceWorkload w = new ProduceWorkload(bootstrap, "operator-kill", 6, 200)) {
      Thread.sleep(2000);
      w.resetGap();
      long before = brokerDeploymentGeneration();
      var operator =
          kube.client().pods().inNamespace("diskless-system").list().getItems().stream()
              .filter(KubernetesScenariosIT::podReady)
              .findFirst()
              .orElseThrow();
      long t0 = System.nanoTime();
      patchSpec("{\"brokers\": {\"config\": {\"wal.max.age.ms\": \"40\"}}}");
      long generation =
          kube.client()
              .genericKubernetesResources("diskless.dev/v1alpha1", "DisklessKafkaCluster")
              .inNamespace(NS)
              .withName("orders")
              .get()
              .getMetadata()
              .getGeneration();
      awaitBrokerDeploymentChangedFrom(before);
      int restartsBefore = killContainer(operator);
      Object observedAtKill = status(kube.client(), NS, "orders").get("observedGeneration");
      long killed = System.nanoTime();
      awaitRestartedAndReady(operator, restartsBefore, Duration.ofMinutes(3));
      long operatorBack = System.nanoTime();
      await()
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                Map<String, Object> st = status(kube.client(), NS, "orders");
                assertThat(((Number) st.get("observedGeneration")).longValue())
                    .as(st.toString())
                    .isEqualTo(generation);
                assertThat(condition(st, "Ready")).as(st.toString()).startsWith("True");
                assertThat(rolledOut(3)).as("brokers rolled out").isTrue();
                assertThat(brokerPods())
                    .noneMatch(p -> p.getMetadata().getDeletionTimestamp() != null);
              });
      long converged = System.nanoTime();
      Thread.sleep(2000);
      var report = w.stopAndCheck();
      System.out.printf(
          "scenario g: operator killed %d ms after the settings patch (status then at generation %s of"
              + " %d); its container ready again after %d s (%s); cluster at the new generation, Ready"
              + " and rolled %d s after the kill; longest a partition went without an ack %d ms; client"
              + " errors %s; history %s%n",
          TimeUnit.NANOSECONDS.toMillis(killed - t0),
          observedAtKill,
          generation,
          TimeUnit.NANOSECONDS.toSeconds(operatorBack - killed),
          lastStartup(operator),
          TimeUnit.NANOSECONDS.toSeconds(converged - killed),
          w.longestGap().toMillis(),
          w.errors(),
          report);
      assertThat(report.anomalies()).isEmpty();
      assertThat(w.errors()).as("send failures seen by the client").isEmpty();
    }
  }

  /** d. kill -9 of a broker's process during acks=all produce. */
  @Test
  @Order(4)
  void aBrokerKilledDuringProduceLosesNothing() throws Exception {
    createTopic("kill", 6);
    try (ProduceWorkload w = new ProduceWorkload(bootstrap, "kill", 6, 200)) {
      Thread.sleep(3000);
      // A roll of an earlier scenario may still be replacing pods: kill one that stays.
      awaitBrokersSettled();
      var victim = brokerPods().get(0);
      w.resetGap();
      long t0 = System.nanoTime();
      int restartsBefore = killContainer(victim);
      awaitRestartedAndReady(victim, restartsBefore, Duration.ofMinutes(2));
      long backSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      Thread.sleep(5000);
      var report = w.stopAndCheck();
      System.out.printf(
          "scenario d: kill -9 of %s; its container restarted and ready again after %d s; longest a partition"
              + " went without an ack %d ms; client errors %s, producer retries %.0f; history %s%n",
          victim.getMetadata().getName(),
          backSeconds,
          w.longestGap().toMillis(),
          w.errors(),
          w.retries(),
          report);
      assertThat(report.anomalies()).isEmpty();
      assertThat(w.errors()).as("send failures seen by the client").isEmpty();
    }
  }

  /** b, then c, then b again with ten times the data. */
  @Test
  @Order(5)
  void scalingMovesOwnershipOnlyAndDrainsBrokersBeforeTheyGo() throws Exception {
    String topic = "retained";
    // The yardstick: the ownership move alone for 100 partitions.
    int partitions = 100;
    createTopic(topic, partitions);
    long unit = 16L << 20;
    produceBytes(topic, unit);
    Move small = scaleAndBalance(topic, partitions, 5);
    System.out.printf(
        "scenario b: 3 -> 5 brokers balanced in %d ms with %d MiB in the bucket; %d bytes written to the bucket"
            + " meanwhile; split: %s%n",
        small.millis(), small.retainedBytes() >> 20, small.bytesWritten(), small.split());

    // c. Scale in under load: the two brokers to go hand their partitions over first.
    createTopic("shrink", 6);
    try (ProduceWorkload w = new ProduceWorkload(bootstrap, "shrink", 6, 200)) {
      Thread.sleep(2000);
      w.resetGap();
      long t0 = System.nanoTime();
      Set<String> before = new HashSet<>();
      brokerPods().forEach(p -> before.add(p.getMetadata().getName()));
      // kubectl scale goes through the /scale subresource, as an HPA or KEDA would.
      String scaled = kubectl("scale", "dkc/orders", "--replicas=3", "-n", NS);
      assertThat(scaled).contains("scaled");
      // The operator gives each broker pod a deletion cost (its partitions) before scaling in.
      Map<String, Integer> cost = new java.util.TreeMap<>();
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      while (!scaledIn()) {
        for (var p : brokerPods()) {
          String c =
              p.getMetadata().getAnnotations() == null
                  ? null
                  : p.getMetadata()
                      .getAnnotations()
                      .get("controller.kubernetes.io/pod-deletion-cost");
          if (c != null) {
            cost.put(p.getMetadata().getName(), Integer.parseInt(c));
          }
        }
        assertThat(System.nanoTime()).as("scaled in within 3 min").isLessThan(deadline);
        Thread.sleep(100);
      }
      Set<String> kept = new HashSet<>();
      brokerPods().forEach(p -> kept.add(p.getMetadata().getName()));
      Set<String> removed = new HashSet<>(before);
      removed.removeAll(kept);
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      Thread.sleep(2000);
      var report = w.stopAndCheck();
      System.out.printf(
          "scenario c: 5 -> 3 brokers in %d s under acks=all produce; client errors %s, producer retries %.0f,"
              + " longest a partition went without an ack %d ms; history %s%n",
          seconds, w.errors(), w.retries(), w.longestGap().toMillis(), report);
      assertThat(report.anomalies()).isEmpty();
      assertThat(w.errors()).as("send failures seen by the client").isEmpty();
      assertThat(removed).hasSize(2);
      assertThat(cost.keySet()).as("every broker got a deletion cost").containsAll(before);
      assertThat(cost.values().stream().mapToInt(Integer::intValue).sum())
          .as("brokers report the partitions they own")
          .isPositive();
      int maxRemoved = removed.stream().mapToInt(cost::get).max().orElseThrow();
      int minKept = kept.stream().mapToInt(cost::get).min().orElseThrow();
      System.out.printf(
          "scenario c: deletion costs (partitions owned) %s; removed %s%n", cost, removed);
      assertThat(maxRemoved).as("the least-loaded brokers went").isLessThanOrEqualTo(minKept);
    }

    produceBytes(topic, 9 * unit);
    Move large = scaleAndBalance(topic, partitions, 5);
    System.out.printf(
        "scenario b: 3 -> 5 brokers balanced in %d ms with %d MiB in the bucket (was %d ms with %d MiB); %d bytes"
            + " written to the bucket meanwhile; split: %s%n",
        large.millis(),
        large.retainedBytes() >> 20,
        small.millis(),
        small.retainedBytes() >> 20,
        large.bytesWritten(),
        large.split());
    // Ownership moves copy no data: what is written meanwhile is small next to what is retained.
    assertThat(small.bytesWritten()).isLessThan(small.retainedBytes() / 10);
    assertThat(large.bytesWritten()).isLessThan(large.retainedBytes() / 10);
  }

  /** f. Deleting the cluster removes what the operator made and keeps the bucket (Retain). */
  @Test
  @Order(6)
  void deletingTheClusterKeepsTheBucket() throws Exception {
    long retained = bucketBytes();
    kube.client()
        .genericKubernetesResources("diskless.dev/v1alpha1", "DisklessKafkaCluster")
        .inNamespace(NS)
        .withName("orders")
        .delete();
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              KubernetesClient client = kube.client();
              assertThat(
                      client.apps().deployments().inNamespace(NS).withName("orders-broker").get())
                  .isNull();
              assertThat(client.services().inNamespace(NS).withName("orders-bootstrap").get())
                  .isNull();
              assertThat(client.configMaps().inNamespace(NS).withName("orders-broker-config").get())
                  .isNull();
              assertThat(brokerPods()).isEmpty();
            });
    assertThat(Files.isDirectory(blobs.resolve("orders-kafka-data"))).isTrue();
    assertThat(bucketBytes()).isGreaterThanOrEqualTo(retained / 2);
    System.out.printf(
        "scenario f: cluster deleted, its objects and pods gone, bucket kept with %d MiB%n",
        bucketBytes() >> 20);
  }

  /**
   * autoscale. A second cluster, from examples/autoscaling.yaml, with a small CPU request and
   * windows short enough for CI: Kafka load (an acks=all idempotent producer over 100 partitions
   * and a consumer group reading it) drives the brokers' CPU above target, the operator adds
   * brokers; the load stops, it removes them one at a time down to minBrokers. A light producer
   * writes throughout, so the drains happen under writes too. It runs after f, when the first
   * cluster's brokers no longer share the machine's two cores.
   */
  @Test
  @Order(7)
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void theAutoscalerAddsBrokersUnderLoadAndRemovesThemOneAtATimeWhenItStops() throws Exception {
    String ns = "clicks";
    String name = "clicks";
    String selector = "app.kubernetes.io/instance=clicks,app.kubernetes.io/component=broker";
    Duration up = Duration.ofSeconds(20);
    Duration down = Duration.ofSeconds(30);
    int min = 3;
    int max = 6;
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      c.createStatement().execute("CREATE DATABASE clicks_kafka");
    }
    KubernetesClient client = kube.client();
    applyExample(
        client,
        "autoscaling.yaml",
        ns,
        name,
        spec -> {
          // A request small enough that three brokers under the load, sharing two cores with
          // it, run above target (about 200m to 280m each), and large enough that an idle broker
          // (about 30m, up to 115m with light traffic and a polling consumer) stays under 3/4 of
          // target, so that every scale-in step down to 3 is recommended: ceil(4 x 37.5 / 50) = 3.
          spec.put(
              "brokers",
              Map.of(
                  "replicas",
                  min,
                  "resources",
                  Map.of(
                      "requests", Map.of("cpu", BROKER_CPU_REQUEST, "memory", "1Gi"),
                      "limits", Map.of("memory", "1Gi"))));
          spec.put(
              "autoscaling",
              Map.of(
                  "enabled",
                  true,
                  "minBrokers",
                  min,
                  "maxBrokers",
                  max,
                  "targetCpuUtilization",
                  TARGET_CPU,
                  "scaleUp",
                  Map.of("stabilizationWindowSeconds", up.toSeconds()),
                  "scaleDown",
                  Map.of("stabilizationWindowSeconds", down.toSeconds())));
        });
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              Map<String, Object> st = status(client, ns, name);
              assertThat(condition(st, "Ready")).as(st.toString()).startsWith("True");
              assertThat(st.get("readyBrokers")).isEqualTo(min);
            });
    var service = kube.serviceAddress(ns, name + "-bootstrap", 9092);
    String boot = service.getHostString() + ":" + service.getPort();
    String loadTopic = "clicks-load";
    String steadyTopic = "clicks-steady";
    int partitions = 100;
    createTopic(boot, loadTopic, partitions);
    createTopic(boot, steadyTopic, 6);

    try (PodMilestones pods = new PodMilestones(client, ns, selector);
        ReplicaTimeline timeline = new ReplicaTimeline(client, ns, name, name + "-broker");
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, boot));
        // Light enough that idle brokers stay far below target (each produce request is a WAL
        // flush: an object PUT and a metadata commit), frequent enough that every drain happens
        // under writes.
        ProduceWorkload steady = new ProduceWorkload(boot, steadyTopic, 6, 10)) {
      await()
          .atMost(Duration.ofMinutes(1))
          .until(() -> Integer.valueOf(min).equals(timeline.desired()));
      long loadStart = System.nanoTime();
      ProduceWorkload load =
          new ProduceWorkload(boot, loadTopic, partitions, LOAD_RECORDS_PER_SECOND);
      LiveConsumer readers =
          new LiveConsumer(boot, "clicks-readers", Map.of(loadTopic, load, steadyTopic, steady));
      long[] loadStopped = {0};
      boolean[] summarized = {false};
      try (load;
          readers) {
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> !timeline.decisions().isEmpty());
        ReplicaTimeline.Decision first = timeline.decisions().getFirst();
        assertThat(first.up()).as("the first decision: %s", first).isTrue();
        ScaleOutSplit split =
            ScaleOutSplit.measure(
                first.at(),
                pods,
                admin,
                loadTopic,
                partitions,
                () ->
                    client
                        .apps()
                        .deployments()
                        .inNamespace(ns)
                        .withName(name + "-broker")
                        .get()
                        .getSpec()
                        .getReplicas(),
                Duration.ofMinutes(3));
        long firstNewReady =
            pods.pods().values().stream()
                .filter(m -> m.created() > loadStart && m.ready().isPresent())
                .mapToLong(m -> m.ready().getAsLong())
                .min()
                .orElseThrow();
        System.out.printf("scenario autoscale: scale-out split: %s%n", split);
        long loadStop = System.nanoTime();
        loadStopped[0] = loadStop;
        load.stopSending();
        Map<String, Integer> zonesAtLoadStop = new java.util.TreeMap<>();
        client
            .pods()
            .inNamespace(ns)
            .withLabelSelector(selector)
            .list()
            .getItems()
            .forEach(
                p ->
                    zonesAtLoadStop.merge(
                        p.getMetadata().getLabels().getOrDefault("topology.kubernetes.io/zone", ""),
                        1,
                        Integer::sum));

        await()
            .atMost(Duration.ofMinutes(4))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .until(
                () ->
                    Integer.valueOf(min).equals(timeline.desired())
                        && rolledOut(ns, name, selector, min));
        long backAtMin = System.nanoTime();
        steady.stopSending();
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () ->
                    readers.distinct(loadTopic) >= load.acknowledged()
                        && readers.distinct(steadyTopic) >= steady.acknowledged());
        readers.close();
        var loadReport = load.stopAndCheck();
        var steadyReport = steady.stopAndCheck();
        List<ReplicaTimeline.Decision> decisions = timeline.decisions();
        int peak = decisions.stream().mapToInt(ReplicaTimeline.Decision::to).max().orElseThrow();
        int flaps = timeline.directionChangesInsideWindow(up, down);
        System.out.printf(
            "scenario autoscale: %d -> %d -> %d brokers (request %s CPU, target %d%%, windows up %d s / down %d s,"
                + " sampled every 2 s over 10 s); load %d records/s over %d partitions + a consumer group;"
                + " load start -> first new broker Ready %.1f s; load stop -> back at %d brokers %.1f s;"
                + " direction changes inside a window %d; send failures %s / %s; acknowledged = consumed: load"
                + " %s, live consumer %d distinct; steady %s, live consumer %d distinct; broker pods by zone when the load stopped %s;"
                + " timeline (load start = 0, load stop %+.1f s): %s%n",
            min,
            peak,
            min,
            BROKER_CPU_REQUEST,
            TARGET_CPU,
            up.toSeconds(),
            down.toSeconds(),
            LOAD_RECORDS_PER_SECOND,
            partitions,
            (firstNewReady - loadStart) / 1e9,
            min,
            (backAtMin - loadStop) / 1e9,
            flaps,
            load.errors(),
            steady.errors(),
            loadReport,
            readers.distinct(loadTopic),
            steadyReport,
            readers.distinct(steadyTopic),
            zonesAtLoadStop,
            (loadStop - loadStart) / 1e9,
            timeline.format(loadStart));
        summarized[0] = true;
        assertThat(peak).isGreaterThan(min).isLessThanOrEqualTo(max);
        assertThat(flaps).as("direction changes inside a stabilization window").isZero();
        assertThat(decisions.stream().filter(d -> !d.up()))
            .as("scale-in one broker at a time: %s", decisions)
            .allMatch(d -> d.from() - d.to() == 1);
        assertThat(load.errors()).as("send failures seen by the load producer").isEmpty();
        assertThat(steady.errors()).as("send failures seen by the steady producer").isEmpty();
        assertThat(loadReport.anomalies()).isEmpty();
        assertThat(steadyReport.anomalies()).isEmpty();
        assertThat(readers.distinct(loadTopic)).isEqualTo(loadReport.acknowledged());
        assertThat(readers.distinct(steadyTopic)).isEqualTo(steadyReport.acknowledged());
      } finally {
        if (!summarized[0]) {
          // An await gave up: the timeline says what the autoscaler did meanwhile.
          System.out.printf(
              "scenario autoscale: did not finish; timeline (load start = 0%s): %s%n",
              loadStopped[0] == 0
                  ? ", load never stopped"
                  : String.format(", load stop %+.1f s", (loadStopped[0] - loadStart) / 1e9),
              timeline.format(loadStart));
        }
      }
    }
  }

  /**
   * zones. One broker Deployment per zone, brokers 1:1:1 over the three Nodes; a consumer that sets
   * client.rack=zone-b is sent to the zone-b broker for every partition (KIP-392), so no fetched
   * byte crosses a zone; then every broker of zone-a dies at once (its Node fails) while a producer
   * writes: the zone's partitions go to zone-b and zone-c and nothing acknowledged is lost.
   */
  @Test
  @Order(9)
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void brokersSpreadOverZonesServeZoneLocalReadsAndSurviveTheLossOfAZone() throws Exception {
    String ns = "zones";
    String name = "zones";
    String selector = "app.kubernetes.io/instance=zones,app.kubernetes.io/component=broker";
    List<String> zones = List.of("zone-a", "zone-b", "zone-c");
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      c.createStatement().execute("CREATE DATABASE zones_kafka");
    }
    KubernetesClient client = kube.client();
    applyExample(
        client,
        "zones.yaml",
        ns,
        name,
        spec -> {
          spec.remove("autoscaling");
          spec.put(
              "brokers",
              Map.of(
                  "replicas",
                  3,
                  "zones",
                  zones,
                  "resources",
                  Map.of(
                      "requests", Map.of("cpu", "100m", "memory", "1Gi"),
                      "limits", Map.of("memory", "1Gi"))));
        });
    awaitClusterReady(client, ns, name, 3);
    for (String zone : zones) {
      assertThat(
              client
                  .apps()
                  .deployments()
                  .inNamespace(ns)
                  .withName(name + "-broker-" + zone)
                  .get()
                  .getSpec()
                  .getReplicas())
          .as("brokers of the %s Deployment", zone)
          .isEqualTo(1);
    }
    Map<String, Integer> byZone = brokerZones(ns, selector);
    assertThat(byZone)
        .containsExactlyInAnyOrderEntriesOf(Map.of("zone-a", 1, "zone-b", 1, "zone-c", 1));

    var service = kube.serviceAddress(ns, name + "-bootstrap", 9092);
    String boot = service.getHostString() + ":" + service.getPort();
    String topic = "zonal";
    int partitions = 12;
    createTopic(boot, topic, partitions);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, boot))) {
      // The controller spreads the topic over the zones: 4 partitions each.
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  leadersByZone(admin, topic)
                      .equals(Map.of("zone-a", 4, "zone-b", 4, "zone-c", 4)));
      try (ProduceWorkload w = new ProduceWorkload(boot, topic, partitions, 200);
          LiveConsumer zoneB =
              new LiveConsumer(
                  boot, "zone-b-readers", Map.of(topic, w), Map.of("client.rack", "zone-b"))) {
        await()
            .atMost(Duration.ofMinutes(1))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> w.acknowledged() >= 2000 && zoneB.distinct(topic) >= 2000);
        Map<String, Map<String, Double>> fetched = fetchBytesByZone(ns, selector);
        double cross =
            fetched.values().stream().mapToDouble(m -> m.getOrDefault("cross", 0.0)).sum();
        double sameOutsideB =
            fetched.entrySet().stream()
                .filter(e -> !e.getKey().equals("zone-b"))
                .mapToDouble(e -> e.getValue().getOrDefault("same", 0.0))
                .sum();
        double sameInB = fetched.getOrDefault("zone-b", Map.of()).getOrDefault("same", 0.0);

        // Zone a goes down: its Node and every broker on it, at once.
        w.resetGap();
        long t0 = System.nanoTime();
        kube.failNode("node-a");
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(200))
            .ignoreExceptions()
            .until(
                () -> {
                  Map<String, Integer> l = leadersByZone(admin, topic);
                  return !l.containsKey("zone-a")
                      && l.values().stream().mapToInt(Integer::intValue).sum() == partitions;
                });
        long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        Map<String, Integer> afterLoss = leadersByZone(admin, topic);
        long ackedAtMove = w.acknowledged();
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> w.acknowledged() >= ackedAtMove + 1000);
        w.stopSending();
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> zoneB.distinct(topic) >= w.acknowledged());
        zoneB.close();
        var report = w.stopAndCheck();
        System.out.printf(
            "scenario zones: brokers by zone %s, one Deployment per zone; topic of %d partitions led 4/4/4 by zone;"
                + " a client.rack=zone-b consumer read %d records: fetched bytes by broker zone %s (cross-zone %.0f,"
                + " same-zone outside zone-b %.0f, zone-b %.0f); zone-a lost (node killed): its partitions led by"
                + " zone-b/zone-c after %d ms %s, longest a partition went without an ack %d ms; client errors %s,"
                + " producer retries %.0f; history %s, zone-b consumer %d distinct%n",
            byZone,
            partitions,
            zoneB.distinct(topic),
            fetched,
            cross,
            sameOutsideB,
            sameInB,
            movedMs,
            afterLoss,
            w.longestGap().toMillis(),
            w.errors(),
            w.retries(),
            report,
            zoneB.distinct(topic));
        assertThat(cross).as("bytes a client.rack=zone-b consumer fetched across zones").isZero();
        assertThat(sameOutsideB).as("zone-local bytes served outside zone-b").isZero();
        assertThat(sameInB).as("zone-local bytes served in zone-b").isPositive();
        assertThat(afterLoss).containsOnlyKeys("zone-b", "zone-c");
        assertThat(afterLoss.values()).containsOnly(partitions / 2);
        assertThat(report.anomalies()).isEmpty();
        assertThat(w.errors()).as("send failures seen by the client").isEmpty();
        assertThat(zoneB.distinct(topic)).isEqualTo(report.acknowledged());
      }
    }
  }

  /**
   * A secured cluster from examples/secure.yaml (kept to its internal SCRAM listener: the TLS ones
   * need certificates for pod IPs) with ACLs on, and a DisklessKafkaUser from examples/user.yaml:
   * the operator generates the user's Secret and registers its credential and ACLs through the
   * cluster's Admin API; a client logs in with the Secret's sasl.jaas.config as it is, produces and
   * consumes the topic its ACLs allow and is refused the one they do not.
   */
  @Test
  @Order(8)
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aDisklessKafkaUsersGeneratedSecretLetsAClientInAsItsAclsSay() throws Exception {
    String ns = "secure";
    String name = "secure";
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      c.createStatement().execute("CREATE DATABASE secure_kafka");
    }
    KubernetesClient client = kube.client();
    long applied = System.nanoTime();
    applyExample(
        client,
        "secure.yaml",
        ns,
        name,
        spec -> {
          spec.put(
              "listeners",
              Map.of(
                  "kafka",
                  List.of(
                      Map.of(
                          "name",
                          "internal",
                          "port",
                          9092,
                          "authentication",
                          Map.of("type", "scram-sha-512")))));
          spec.put(
              "brokers",
              Map.of(
                  "replicas",
                  2,
                  "resources",
                  Map.of(
                      "requests", Map.of("cpu", "100m", "memory", "1Gi"),
                      "limits", Map.of("memory", "1Gi"))));
        });
    awaitClusterReady(client, ns, name, 2);
    long clusterReadyMs = (System.nanoTime() - applied) / 1_000_000;
    // The topic alice may use is declared as a resource (examples/topic.yaml); the operator
    // creates it through the Admin API.
    long created = System.nanoTime();
    applyResource(client, ns, "topic.yaml", name);
    long topicReadyMs = awaitReady(client, ns, "DisklessKafkaTopic", "payments", created);
    created = System.nanoTime();
    applyResource(client, ns, "user.yaml", name);
    long userReadyMs = awaitReady(client, ns, "DisklessKafkaUser", "alice", created);
    var service = kube.serviceAddress(ns, name + "-bootstrap", 9092);
    String boot = service.getHostString() + ":" + service.getPort();
    // ledger is made by the operator's user (a super user); alice may use only payments.
    Map<String, Object> operator =
        sasl(
            boot,
            secret(client, ns, name + "-operator-credentials", "username"),
            secret(client, ns, name + "-operator-credentials", "password"));
    int paymentsPartitions;
    try (Admin admin = Admin.create(operator)) {
      admin
          .createTopics(List.of(new NewTopic("ledger", 1, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
      paymentsPartitions =
          admin
              .describeTopics(List.of("payments"))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS)
              .get("payments")
              .partitions()
              .size();
    }
    Map<String, Object> alice = new HashMap<>();
    alice.put("bootstrap.servers", boot);
    alice.put("security.protocol", "SASL_PLAINTEXT");
    alice.put("sasl.mechanism", "SCRAM-SHA-512");
    // The generated Secret's sasl.jaas.config, as an application would mount it.
    alice.put("sasl.jaas.config", secret(client, ns, "alice", "sasl.jaas.config"));
    Map<String, Object> producer = new HashMap<>(alice);
    producer.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> p =
        new KafkaProducer<>(producer, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < 100; i++) {
        p.send(new ProducerRecord<>("payments", "k" + i, "v" + i)).get(30, TimeUnit.SECONDS);
      }
    }
    Map<String, Object> consumer = new HashMap<>(alice);
    consumer.put(ConsumerConfig.GROUP_ID_CONFIG, "payments-readers");
    consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    int read = 0;
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(consumer, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of("payments"));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (read < 100 && System.nanoTime() < deadline) {
        read += c.poll(Duration.ofMillis(500)).count();
      }
    }
    Throwable refused;
    try (Admin admin = Admin.create(alice)) {
      refused =
          org.assertj.core.api.Assertions.catchThrowable(
              () ->
                  admin
                      .describeTopics(List.of("ledger"))
                      .allTopicNames()
                      .get(30, TimeUnit.SECONDS));
    }
    System.out.printf(
        "scenario secure-user: cluster with a SCRAM listener and ACLs Ready %d ms after apply;"
            + " DisklessKafkaTopic payments Ready %d ms after apply (%d partitions);"
            + " DisklessKafkaUser alice Ready %d ms after apply; with the generated Secret's"
            + " sasl.jaas.config alice produced 100 and read %d records of payments; ledger: %s%n",
        clusterReadyMs,
        topicReadyMs,
        paymentsPartitions,
        userReadyMs,
        read,
        refused == null ? "allowed" : refused.getCause());
    assertThat(paymentsPartitions).isEqualTo(12);
    assertThat(read).isEqualTo(100);
    assertThat(refused)
        .hasCauseInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class);
  }

  /** Waits up to 3 minutes for the cluster to be Ready with {@code brokers} ready brokers. */
  private static void awaitClusterReady(
      KubernetesClient client, String ns, String name, int brokers) {
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              Map<String, Object> st = status(client, ns, name);
              assertThat(condition(st, "Ready")).as(st.toString()).startsWith("True");
              assertThat(st.get("readyBrokers")).isEqualTo(brokers);
            });
  }

  /** Creates the resource of examples/{@code example} in {@code ns} for cluster {@code cluster}. */
  private static void applyResource(
      KubernetesClient client, String ns, String example, String cluster) throws Exception {
    GenericKubernetesResource r =
        client
            .getKubernetesSerialization()
            .unmarshal(
                Files.readString(REPO.resolve("examples").resolve(example)),
                GenericKubernetesResource.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) r.getAdditionalProperties().get("spec");
    spec.put("cluster", cluster);
    client.resource(r).inNamespace(ns).create();
  }

  /** Waits for a resource of ours to say Ready; milliseconds since {@code since} (nanoTime). */
  private static long awaitReady(
      KubernetesClient client, String ns, String kind, String name, long since) {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              GenericKubernetesResource r =
                  client
                      .genericKubernetesResources("diskless.dev/v1alpha1", kind)
                      .inNamespace(ns)
                      .withName(name)
                      .get();
              @SuppressWarnings("unchecked")
              Map<String, Object> st =
                  (Map<String, Object>)
                      r.getAdditionalProperties().getOrDefault("status", Map.of());
              assertThat(condition(st, "Ready")).as(r.toString()).startsWith("True");
            });
    return (System.nanoTime() - since) / 1_000_000;
  }

  private static Map<String, Object> sasl(String boot, String user, String password) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", boot);
    c.put("security.protocol", "SASL_PLAINTEXT");
    c.put("sasl.mechanism", "SCRAM-SHA-512");
    c.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + user
            + "\" password=\""
            + password
            + "\";");
    return c;
  }

  private static String secret(KubernetesClient client, String ns, String name, String key) {
    return new String(
        java.util.Base64.getDecoder()
            .decode(client.secrets().inNamespace(ns).withName(name).get().getData().get(key)),
        java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Partitions of {@code topic} by their leader's rack. */
  private static Map<String, Integer> leadersByZone(Admin admin, String topic) throws Exception {
    var d =
        admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
    Map<String, Integer> out = new java.util.TreeMap<>();
    for (var p : d.partitions()) {
      if (p.leader() != null && !p.leader().isEmpty()) {
        out.merge(String.valueOf(p.leader().rack()), 1, Integer::sum);
      }
    }
    return out;
  }

  /**
   * Each broker's {@code diskless_fetch_bytes_total} by its zone relation to the client (same,
   * cross, unknown), read from the brokers' own /metrics, keyed by the broker's zone.
   */
  private static Map<String, Map<String, Double>> fetchBytesByZone(String ns, String selector)
      throws Exception {
    Map<String, Map<String, Double>> out = new java.util.TreeMap<>();
    var http = java.net.http.HttpClient.newHttpClient();
    for (var p :
        kube.client().pods().inNamespace(ns).withLabelSelector(selector).list().getItems()) {
      String zone = p.getMetadata().getLabels().get("topology.kubernetes.io/zone");
      String body =
          http.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(
                              "http://" + p.getStatus().getPodIP() + ":8080/metrics"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      Map<String, Double> relations = new java.util.TreeMap<>();
      body.lines()
          .filter(l -> l.startsWith("diskless_fetch_bytes_total{"))
          .forEach(
              l -> {
                var m = java.util.regex.Pattern.compile("zone=\"([a-z]+)\"").matcher(l);
                if (m.find()) {
                  relations.merge(
                      m.group(1),
                      Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)),
                      Double::sum);
                }
              });
      out.put(zone, relations);
    }
    return out;
  }
}
