package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.playground.LocalCertificates;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.security.TlsConfig;
import dev.diskless.broker.testing.Kcat;
import dev.diskless.storage.StorageConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/**
 * kcat (librdkafka, a different Kafka client implementation) lists metadata, produces and consumes
 * through a broker. .ci/run installs kcat and sets DISKLESS_REQUIRE_KCAT, so in CI a missing kcat
 * fails this test.
 */
class KcatIT {

  @Test
  void kcatListsProducesAndConsumes() throws Exception {
    assumeTrue(
        Kcat.available(), "kcat is not installed here (apt-get install kcat); CI installs it");

    StorageConfig storage = TestStorage.fresh();
    try (Broker broker = Broker.start(BrokerConfig.local("kcat-broker", storage))) {
      String bootstrap = "127.0.0.1:" + broker.port();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic("kcat", 2, (short) 1))).all().get();
      }
      org.awaitility.Awaitility.await().until(() -> broker.ownedPartitions("kcat").size() == 2);

      Kcat.Result metadata = Kcat.run(List.of("kcat", "-b", bootstrap, "-L", "-t", "kcat"), null);
      assertThat(metadata.exitCode()).isZero();
      assertThat(metadata.out())
          .contains("topic \"kcat\" with 2 partitions")
          .contains("leader " + broker.nodeId());

      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        lines.add("line-" + i);
      }
      Kcat.Result produced =
          Kcat.run(
              List.of("kcat", "-b", bootstrap, "-t", "kcat", "-p", "1", "-P", "-X", "acks=all"),
              String.join("\n", lines) + "\n");
      assertThat(produced.exitCode()).as(produced.err()).isZero();

      Kcat.Result consumed =
          Kcat.run(
              List.of(
                  "kcat",
                  "-b",
                  bootstrap,
                  "-t",
                  "kcat",
                  "-p",
                  "1",
                  "-C",
                  "-o",
                  "beginning",
                  "-e",
                  "-f",
                  "%o %s\\n"),
              null);
      assertThat(consumed.exitCode()).as(consumed.err()).isZero();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        expected.add(i + " line-" + i);
      }
      assertThat(consumed.out().lines().toList()).containsExactlyElementsOf(expected);
    }
  }

  /**
   * kcat over SASL_PLAINTEXT: PLAIN produces and consumes, a wrong password is refused. SCRAM with
   * librdkafka before 2.6.1 sends the client nonce twice in its final message (librdkafka#4895),
   * which Kafka 4.x refuses (it compares the nonce exactly, RFC 5802) and so do we; from 2.6.1 it
   * succeeds.
   */
  @Test
  void kcatAuthenticatesOverSasl() throws Exception {
    assumeTrue(
        Kcat.available(), "kcat is not installed here (apt-get install kcat); CI installs it");

    StorageConfig storage = TestStorage.fresh();
    BrokerConfig config =
        BrokerConfig.local("kcat-sasl", storage)
            .withSecurity(
                SecurityConfig.sasl("SCRAM-SHA-512", "PLAIN").withBootstrapUser("ops", "ops-pw"));
    try (Broker broker = Broker.start(config)) {
      String bootstrap = "127.0.0.1:" + broker.port();
      List<String> plain = sasl(bootstrap, "PLAIN", "ops-pw");
      Kcat.Result produced =
          Kcat.run(concat(plain, "-t", "kcat-sasl", "-P", "-X", "acks=all"), "one\ntwo\nthree\n");
      assertThat(produced.exitCode()).as(produced.err()).isZero();
      Kcat.Result consumed =
          Kcat.run(
              concat(plain, "-t", "kcat-sasl", "-C", "-o", "beginning", "-e", "-f", "%s\\n"), null);
      assertThat(consumed.exitCode()).as(consumed.err()).isZero();
      assertThat(consumed.out().lines().toList()).containsExactlyInAnyOrder("one", "two", "three");

      Kcat.Result refused =
          Kcat.run(concat(sasl(bootstrap, "PLAIN", "wrong"), "-L", "-m", "5"), null);
      assertThat(refused.exitCode()).isNotZero();
      assertThat(refused.err()).contains("Authentication failed: Invalid username or password");

      Kcat.Result scram =
          Kcat.run(concat(sasl(bootstrap, "SCRAM-SHA-512", "ops-pw"), "-L", "-m", "5"), null);
      if (librdkafkaAtLeast(2, 6, 1)) {
        assertThat(scram.exitCode()).as(scram.err()).isZero();
      } else {
        assertThat(scram.exitCode()).isNotZero();
        assertThat(scram.err())
            .contains(
                "Authentication failed during authentication due to invalid credentials with SASL"
                    + " mechanism SCRAM-SHA-512");
      }
    }
  }

  /** kcat (librdkafka's OpenSSL) over SASL_SSL: PLAIN inside TLS, the CA from a PEM file. */
  @Test
  void kcatProducesAndConsumesOverSaslSsl(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    assumeTrue(
        Kcat.available(), "kcat is not installed here (apt-get install kcat); CI installs it");

    LocalCertificates.Issued ca = LocalCertificates.ca("kcat-ca");
    LocalCertificates.Issued server = LocalCertificates.server(ca);
    java.nio.file.Path caFile =
        LocalCertificates.writeCertificates(dir.resolve("ca.crt"), ca.certificate());
    TlsConfig tls =
        TlsConfig.server(
            LocalCertificates.writeCertificates(
                dir.resolve("tls.crt"), server.certificate(), ca.certificate()),
            LocalCertificates.writePkcs1Key(dir.resolve("tls.key"), server.keys().getPrivate()));
    BrokerConfig config =
        BrokerConfig.local("kcat-tls", TestStorage.fresh())
            .withSecurity(
                SecurityConfig.sasl("PLAIN").withBootstrapUser("ops", "ops-pw").withTls(tls));
    try (Broker broker = Broker.start(config)) {
      List<String> client =
          List.of(
              "kcat",
              "-b",
              "127.0.0.1:" + broker.port(),
              "-X",
              "security.protocol=SASL_SSL",
              "-X",
              "ssl.ca.location=" + caFile,
              "-X",
              "sasl.mechanisms=PLAIN",
              "-X",
              "sasl.username=ops",
              "-X",
              "sasl.password=ops-pw");
      Kcat.Result produced =
          Kcat.run(concat(client, "-t", "kcat-tls", "-P", "-X", "acks=all"), "a\nb\n");
      assertThat(produced.exitCode()).as(produced.err()).isZero();
      Kcat.Result consumed =
          Kcat.run(
              concat(client, "-t", "kcat-tls", "-C", "-o", "beginning", "-e", "-f", "%s\\n"), null);
      assertThat(consumed.exitCode()).as(consumed.err()).isZero();
      assertThat(consumed.out().lines().toList()).containsExactlyInAnyOrder("a", "b");
    }
  }

  private static boolean librdkafkaAtLeast(int major, int minor, int patch) throws Exception {
    Kcat.Result version = Kcat.run(List.of("kcat", "-V"), null);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("librdkafka (\\d+)\\.(\\d+)\\.(\\d+)")
            .matcher(version.out() + version.err());
    assertThat(m.find()).as("librdkafka version in kcat -V").isTrue();
    int[] v = {
      Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))
    };
    return java.util.Arrays.compare(v, new int[] {major, minor, patch}) >= 0;
  }

  private static List<String> sasl(String bootstrap, String mechanism, String password) {
    return List.of(
        "kcat",
        "-b",
        bootstrap,
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanisms=" + mechanism,
        "-X",
        "sasl.username=ops",
        "-X",
        "sasl.password=" + password);
  }

  private static List<String> concat(List<String> head, String... tail) {
    List<String> out = new ArrayList<>(head);
    out.addAll(List.of(tail));
    return out;
  }
}
