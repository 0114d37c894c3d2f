package dev.diskless.operator.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.kube.LocalControlPlane;
import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.pki.CertificateAuthority;
import dev.diskless.operator.pki.Pem;
import dev.diskless.operator.testing.KubeApiServerResource;
import dev.diskless.operator.testing.KubeControlPlane;
import dev.diskless.operator.testing.S3ProxyServer;
import dev.diskless.operator.testing.TestClusters;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DisklessKafkaUser with {@code authentication.type: tls} against a real broker: the operator makes
 * the cluster's clients CA and renders the brokers' settings; the broker's own jar runs as a
 * process with exactly the rendered listener settings (an internal SCRAM listener for the operator,
 * an mTLS listener whose server certificate comes from a kubernetes.io/tls Secret, as cert-manager
 * writes it), with the mounted files' paths pointing at copies of the two Secrets. A kafka-clients
 * producer and consumer connect with the operator-issued certificate from the user's Secret, are
 * User:alice to the ACLs, and are refused a topic outside them; a certificate of the listener's own
 * CA is accepted too (its whole DN is the principal), one of an unknown CA is not; switching to
 * SCRAM and back swaps the SCRAM credential and the Secret's keys; a clients CA near its end is
 * renewed with the same key, keeping the user's certificate; a tls user of a cluster without an
 * mTLS listener says NoTlsListener.
 */
@QuarkusTest
@QuarkusTestResource(KubeApiServerResource.class)
class TlsUserIT {

  private static final S3ProxyServer S3 = TestClusters.startS3();
  private static final TestClusters CLUSTERS = new TestClusters(S3);

  private static BrokerProcess broker;
  private static int internalPort;
  private static int mtlsPort;
  private static Path dir;
  private static String ns;
  private static CertificateAuthority listenerCa;

  @BeforeAll
  static void clusterAndBroker() throws Exception {
    internalPort = LocalControlPlane.freePort();
    mtlsPort = LocalControlPlane.freePort();
    dir = Files.createTempDirectory("tls-user-it");
    listenerCa = CertificateAuthority.generate("cert-manager-ca", Instant.now());

    try (KubernetesClient kube = KubeControlPlane.get().adminClient()) {
      ns = CLUSTERS.namespace(kube, S3ProxyServer.ACCESS_KEY);
      ClusterFixtures.operatorCredentials(kube, ns);
      kube.secrets().inNamespace(ns).resource(listenerSecret()).create();
      CLUSTERS.apply(
          kube,
          ns,
          TestClusters.ORDERS.replace(
              "spec:\n",
              "spec:\n  authorization: {type: simple}\n  listeners:\n    interBroker: internal\n"
                  + "    kafka:\n"
                  + "      - {name: internal, port: "
                  + internalPort
                  + ", authentication: {type: scram-sha-512}}\n"
                  + "      - {name: mtls, port: "
                  + mtlsPort
                  + ", tls: {secretName: orders-tls}, authentication: {type: tls}}\n"));
      // What the kubelet would mount: the listener Secret and the clients CA's certificate.
      Secret clientsCa =
          await()
              .atMost(Duration.ofSeconds(60))
              .until(
                  () -> kube.secrets().inNamespace(ns).withName("orders-clients-ca").get(),
                  s -> s != null);
      assertThat(clientsCa.getData()).containsOnlyKeys("ca.crt", "ca.key");
      Files.createDirectories(dir.resolve("tls/mtls"));
      Files.createDirectories(dir.resolve("clients-ca"));
      Secret listener = kube.secrets().inNamespace(ns).withName("orders-tls").get();
      for (String key : List.of("tls.crt", "tls.key", "ca.crt")) {
        Files.writeString(dir.resolve("tls/mtls/" + key), decode(listener, key));
      }
      Files.writeString(dir.resolve("clients-ca/ca.crt"), decode(clientsCa, "ca.crt"));
      ConfigMap config =
          await()
              .atMost(Duration.ofSeconds(60))
              .until(
                  () -> kube.configMaps().inNamespace(ns).withName("orders-broker-config").get(),
                  c -> c != null);
      startBroker(config.getData().get("broker.properties"));
      ClusterFixtures.standInForTheBroker(kube, ns, "orders");
    }
  }

  /**
   * Starts the broker with the operator's listener and security settings, paths moved from where
   * the pod mounts the Secrets to their copies here; storage points at this test's PostgreSQL and
   * S3Proxy.
   */
  private static void startBroker(String rendered) throws Exception {
    List<String> lines = new ArrayList<>();
    for (String line : rendered.split("\n")) {
      if (line.startsWith("listener")
          || line.startsWith("inter.broker")
          || line.startsWith("sasl.")
          || line.startsWith("authorizer.")
          || line.startsWith("super.users")) {
        lines.add(
            line.replace("/etc/diskless/tls/", dir.resolve("tls") + "/")
                .replace("/etc/diskless/clients-ca/", dir.resolve("clients-ca") + "/"));
      }
    }
    assertThat(lines)
        .as("the rendered mTLS listener trusts both CAs and maps CN=<user>")
        .anyMatch(l -> l.startsWith("listener.name.mtls.ssl.ca.location=") && l.contains(","))
        .anyMatch(l -> l.startsWith("listener.name.mtls.ssl.principal.mapping.rules="));
    broker = BrokerProcess.start(dir, "tls-users", S3, lines, mtlsPort);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void aClientWithTheIssuedCertificateIsTheUserAndMeetsItsAcls() throws Exception {
    try (KubernetesClient kube = KubeControlPlane.get().adminClient();
        Admin admin = Admin.create(operator())) {
      admin
          .createTopics(
              List.of(new NewTopic("payments", 1, (short) 1), new NewTopic("ledger", 1, (short) 1)))
          .all()
          .get();
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
            authentication: {type: tls}
            authorization:
              acls:
                - resource: {type: topic, name: payments}
                  operations: [Write, Read, Describe]
                - resource: {type: group, name: pay-, patternType: prefix}
                  operations: [Read]
          """);
      await()
          .atMost(Duration.ofSeconds(120))
          .ignoreExceptions()
          .untilAsserted(() -> assertThat(ready(kube, ns, "alice")).startsWith("True InSync"));
      DisklessKafkaUser alice = user(kube, ns, "alice");
      assertThat(alice.getStatus().secret).isEqualTo("alice");
      assertThat(Instant.parse(alice.getStatus().certificateNotAfter))
          .isAfter(Instant.now().plus(Duration.ofDays(364)));
      Secret secret = kube.secrets().inNamespace(ns).withName("alice").get();
      assertThat(secret.getData()).containsOnlyKeys("user.crt", "user.key", "ca.crt");
      assertThat(decode(secret, "user.key")).startsWith("-----BEGIN PRIVATE KEY-----");
      assertThat(decode(secret, "ca.crt")).isEqualTo(Pem.certificate(listenerCa.certificate()));
      assertThat(admin.describeUserScramCredentials().all().get()).doesNotContainKey("alice");

      Map<String, Object> client =
          mtls(decode(secret, "user.crt"), decode(secret, "user.key"), decode(secret, "ca.crt"));
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(client, new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>("payments", "k", "paid")).get(30, TimeUnit.SECONDS);
        Throwable refused =
            ClusterFixtures.cause(
                () ->
                    producer
                        .send(new ProducerRecord<>("ledger", "k", "x"))
                        .get(30, TimeUnit.SECONDS));
        assertThat(refused).isInstanceOf(TopicAuthorizationException.class);
      }
      Map<String, Object> consumerConfig = new HashMap<>(client);
      consumerConfig.put("group.id", "pay-reports");
      consumerConfig.put("auto.offset.reset", "earliest");
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(consumerConfig, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of("payments"));
        List<String> values = new ArrayList<>();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(r.value());
                  }
                  return !values.isEmpty();
                });
        assertThat(values).containsExactly("paid");
      }

      // A certificate of the listener Secret's own CA (e.g. cert-manager's) is accepted too; its
      // principal is its whole DN, which has no ACLs here.
      CertificateAuthority.Issued bob =
          listenerCa.issueClient("bob", Duration.ofDays(1), Instant.now());
      Map<String, Object> bobClient =
          mtls(
              Pem.certificate(bob.certificate()),
              Pem.privateKey(bob.key()),
              Pem.certificate(listenerCa.certificate()));
      try (Admin asBob = Admin.create(bobClient)) {
        assertThat(asBob.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(1);
        assertThat(
                ClusterFixtures.cause(
                    () -> asBob.describeTopics(List.of("payments")).allTopicNames().get()))
            .isInstanceOf(TopicAuthorizationException.class);
      }
      // One of an unknown CA, with alice's name, is refused at the handshake.
      CertificateAuthority.Issued forged =
          CertificateAuthority.generate("orders-clients-ca", Instant.now())
              .issueClient("alice", Duration.ofDays(1), Instant.now());
      try (Admin asForged =
          Admin.create(
              mtls(
                  Pem.certificate(forged.certificate()),
                  Pem.privateKey(forged.key()),
                  Pem.certificate(listenerCa.certificate())))) {
        assertThat(
                ClusterFixtures.cause(
                    () -> asForged.describeCluster().nodes().get(30, TimeUnit.SECONDS)))
            .isInstanceOf(SslAuthenticationException.class);
      }

      // The clients CA a year before its end is renewed with the same key and subject; alice's
      // certificate verifies against it (CertificateAuthorityTest) and is kept.
      Secret caSecret = kube.secrets().inNamespace(ns).withName("orders-clients-ca").get();
      CertificateAuthority clientsCa =
          CertificateAuthority.fromPem(decode(caSecret, "ca.crt"), decode(caSecret, "ca.key"));
      CertificateAuthority ending =
          clientsCa.renewed(
              Instant.now().minus(CertificateAuthority.CA_VALIDITY).plus(Duration.ofDays(100)));
      caSecret.getData().put("ca.crt", base64(Pem.certificate(ending.certificate())));
      kube.resource(caSecret).inNamespace(ns).update();
      Secret renewed =
          await()
              .atMost(Duration.ofSeconds(60))
              .until(
                  () -> kube.secrets().inNamespace(ns).withName("orders-clients-ca").get(),
                  s ->
                      CertificateAuthority.fromPem(decode(s, "ca.crt"), decode(s, "ca.key"))
                          .certificate()
                          .getNotAfter()
                          .toInstant()
                          .isAfter(Instant.now().plus(Duration.ofDays(3600))));
      CertificateAuthority after =
          CertificateAuthority.fromPem(decode(renewed, "ca.crt"), decode(renewed, "ca.key"));
      assertThat(after.key()).isEqualTo(clientsCa.key());
      assertThat(after.certificate().getSerialNumber())
          .isNotIn(
              clientsCa.certificate().getSerialNumber(), ending.certificate().getSerialNumber());
      assertThat(after.signed(Pem.certificates(decode(secret, "user.crt")).getFirst())).isTrue();
      assertThat(kube.secrets().inNamespace(ns).withName("alice").get().getData().get("user.crt"))
          .isEqualTo(secret.getData().get("user.crt"));

      // tls -> scram-sha-512: a SCRAM credential and a password Secret; and back again.
      switchTo(kube, "scram-sha-512");
      await()
          .atMost(Duration.ofSeconds(120))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(admin.describeUserScramCredentials().all().get()).containsKey("alice");
                assertThat(kube.secrets().inNamespace(ns).withName("alice").get().getData())
                    .containsOnlyKeys("username", "password", "sasl.jaas.config");
                assertThat(user(kube, ns, "alice").getStatus().certificateNotAfter).isNull();
              });
      switchTo(kube, "tls");
      await()
          .atMost(Duration.ofSeconds(120))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                assertThat(admin.describeUserScramCredentials().all().get())
                    .doesNotContainKey("alice");
                assertThat(kube.secrets().inNamespace(ns).withName("alice").get().getData())
                    .containsOnlyKeys("user.crt", "user.key", "ca.crt");
                assertThat(ready(kube, ns, "alice")).startsWith("True InSync");
              });

      kube.resources(DisklessKafkaUser.class).inNamespace(ns).withName("alice").delete();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(
                          admin
                              .describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY)
                              .values()
                              .get())
                      .noneMatch(b -> b.entry().principal().equals("User:alice")));
    }
  }

  @Test
  void aTlsUserOfAClusterWithoutAnMtlsListenerSaysWhyItCannotLogIn() throws Exception {
    try (KubernetesClient kube = KubeControlPlane.get().adminClient()) {
      // Another cluster object whose only listener is the broker's SCRAM one.
      String other = CLUSTERS.namespace(kube, S3ProxyServer.ACCESS_KEY);
      ClusterFixtures.operatorCredentials(kube, other);
      CLUSTERS.apply(
          kube,
          other,
          TestClusters.ORDERS.replace(
              "spec:\n",
              "spec:\n  authorization: {type: simple}\n  listeners:\n    kafka:\n"
                  + "      - {name: internal, port: "
                  + internalPort
                  + ", authentication: {type: scram-sha-512}}\n"));
      ClusterFixtures.standInForTheBroker(kube, other, "orders");
      ClusterFixtures.apply(
          kube,
          other,
          """
          apiVersion: diskless.dev/v1alpha1
          kind: DisklessKafkaUser
          metadata:
            name: carol
          spec:
            cluster: orders
            authentication: {type: tls}
          """);
      await()
          .atMost(Duration.ofSeconds(120))
          .ignoreExceptions()
          .untilAsserted(
              () ->
                  assertThat(ready(kube, other, "carol"))
                      .startsWith("False NoTlsListener")
                      .contains("no listener with authentication type tls"));
      // The user and its certificate exist all the same, ready for an mTLS listener.
      assertThat(kube.secrets().inNamespace(other).withName("carol").get().getData())
          .containsKey("user.crt");
    }
  }

  private static void switchTo(KubernetesClient kube, String type) {
    DisklessKafkaUser u = user(kube, ns, "alice");
    u.getSpec().authentication.type =
        type.equals("tls")
            ? dev.diskless.operator.crd.DisklessKafkaUserSpec.Authentication.Type.TLS
            : dev.diskless.operator.crd.DisklessKafkaUserSpec.Authentication.Type.SCRAM_SHA_512;
    kube.resource(u).inNamespace(ns).unlock().update();
  }

  /** A Kafka client of the mTLS listener with a PEM certificate, key and trusted CA. */
  private static Map<String, Object> mtls(String certificate, String key, String ca) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", "127.0.0.1:" + mtlsPort);
    c.put("security.protocol", "SSL");
    c.put("ssl.keystore.type", "PEM");
    c.put("ssl.keystore.certificate.chain", certificate);
    c.put("ssl.keystore.key", key);
    c.put("ssl.truststore.type", "PEM");
    c.put("ssl.truststore.certificates", ca);
    c.put("request.timeout.ms", 10_000);
    c.put("default.api.timeout.ms", 20_000);
    c.put("max.block.ms", 20_000);
    c.put("delivery.timeout.ms", 25_000);
    return c;
  }

  private static Map<String, Object> operator() {
    return ClusterFixtures.operatorClient(internalPort);
  }

  /** The listener's kubernetes.io/tls Secret, as cert-manager writes it, for 127.0.0.1. */
  private static Secret listenerSecret() throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    java.security.KeyPair keys = g.generateKeyPair();
    Instant now = Instant.now();
    var builder =
        new JcaX509v3CertificateBuilder(
            X500Name.getInstance(listenerCa.certificate().getSubjectX500Principal().getEncoded()),
            BigInteger.valueOf(now.toEpochMilli()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(2))),
            new X500Name("CN=orders-broker"),
            keys.getPublic());
    builder.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
    builder.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    var server =
        new JcaX509CertificateConverter()
            .getCertificate(
                builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(listenerCa.key())));
    return new SecretBuilder()
        .withNewMetadata()
        .withName("orders-tls")
        .endMetadata()
        .withType("kubernetes.io/tls")
        .addToStringData("tls.crt", Pem.certificate(server))
        .addToStringData("tls.key", Pem.privateKey(keys.getPrivate()))
        .addToStringData("ca.crt", Pem.certificate(listenerCa.certificate()))
        .build();
  }

  private static DisklessKafkaUser user(KubernetesClient kube, String namespace, String name) {
    return kube.resources(DisklessKafkaUser.class).inNamespace(namespace).withName(name).get();
  }

  private static String ready(KubernetesClient kube, String namespace, String name) {
    return ClusterFixtures.ready(user(kube, namespace, name).getStatus().conditions);
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(Secret secret, String key) {
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.US_ASCII);
  }
}
