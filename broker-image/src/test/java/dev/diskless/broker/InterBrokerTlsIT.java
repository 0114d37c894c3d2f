package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.config.ListenerConfig;
import dev.diskless.broker.playground.LocalCertificates;
import dev.diskless.broker.security.AuthorizationConfig;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.security.TlsConfig;
import dev.diskless.broker.testing.SaslClients;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Brokers that talk to each other over mutual TLS, as a cluster with an SSL inter-broker listener
 * has them: each presents its own certificate (its PKCS#1 key converted for Kafka's PEM keystore)
 * and is the super user its certificate's DN names, so that transaction markers pass ACLs. The CA,
 * certificates and keys are then all replaced, as a certificate manager rotates them: the listeners
 * reload them, and so must the brokers' own client, or the markers of a transaction across both
 * brokers are refused.
 */
class InterBrokerTlsIT {

  @TempDir Path dir;
  private StorageConfig storage;
  private Broker first;
  private Broker second;
  private Path certificate;
  private Path key;
  private Path caFile;
  private final StorageMetrics firstMetrics = StorageMetrics.noExport();
  private final StorageMetrics secondMetrics = StorageMetrics.noExport();
  private long servedNotAfter;

  @BeforeEach
  void start() throws Exception {
    storage = TestStorage.fresh();
    certificate = dir.resolve("tls.crt");
    key = dir.resolve("tls.key");
    caFile = dir.resolve("ca.crt");
    issue("first-ca");
    first = Broker.start(config("inter-broker-tls-a"), firstMetrics);
    second = Broker.start(config("inter-broker-tls-b"), secondMetrics);
  }

  @AfterEach
  void stop() {
    if (second != null) {
      second.close();
    }
    if (first != null) {
      first.close();
    }
  }

  /** A new CA and a server certificate (CN=localhost) from it, written over the files. */
  private void issue(String caName) throws Exception {
    LocalCertificates.Issued ca = LocalCertificates.ca(caName);
    LocalCertificates.Issued server = LocalCertificates.server(ca);
    servedNotAfter = server.certificate().getNotAfter().toInstant().getEpochSecond();
    Path next = Files.createTempDirectory(dir, "next");
    LocalCertificates.writeCertificates(next.resolve("tls.crt"), server.certificate());
    LocalCertificates.writePkcs1Key(next.resolve("tls.key"), server.keys().getPrivate());
    LocalCertificates.writeCertificates(next.resolve("ca.crt"), ca.certificate());
    // Moved into place, as the kubelet swaps a Secret's files: never half-written.
    for (String f : List.of("tls.crt", "tls.key", "ca.crt")) {
      Files.move(
          next.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private BrokerConfig config(String instance) {
    AuthorizationConfig acls =
        new AuthorizationConfig(Set.of("User:admin", "User:CN=localhost"), false);
    SecurityConfig sasl =
        SecurityConfig.sasl("SCRAM-SHA-512")
            .withBootstrapUser("admin", "admin-secret")
            .withAuthorization(acls);
    SecurityConfig mtls =
        SecurityConfig.PLAINTEXT
            .withTls(
                TlsConfig.server(certificate, key)
                    .withClientAuth(TlsConfig.ClientAuth.REQUIRED, caFile))
            .withAuthorization(acls);
    return BrokerConfig.local(instance, storage)
        .withListeners(
            List.of(
                new ListenerConfig("CLIENTS", "127.0.0.1", 0, "127.0.0.1", 0, sasl),
                new ListenerConfig("INTERNAL", "127.0.0.1", 0, "localhost", 0, mtls)),
            "INTERNAL");
  }

  private Map<String, Object> admin() {
    return SaslClients.config(
        "127.0.0.1:" + first.port("CLIENTS"), "SCRAM-SHA-512", "admin", "admin-secret");
  }

  @Test
  void markersGoOverMutualTlsWithCertificatesRenewedWhileTheBrokersRun() throws Exception {
    // Rotated before any inter-broker connection exists: every one is made with what the files
    // hold now, and the old CA is trusted nowhere any more.
    issue("second-ca");
    for (StorageMetrics m : List.of(firstMetrics, secondMetrics)) {
      // Both halves of each broker took the renewal: its listener serves the new certificate, and
      // its client to the other broker presents it and trusts the new CA.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  expiry(m) == servedNotAfter
                      && counted(m, "diskless.tls.reloads", "reloaded") >= 1
                      && counted(m, "diskless.interbroker.client.settings.changes", "applied")
                          >= 1);
      assertThat(counted(m, "diskless.tls.reloads", "refused")).isZero();
    }
    assertThat(ListenersIT.committedAcrossBrokers(first, second, admin())).isEqualTo(8);
  }

  private static double expiry(StorageMetrics m) {
    return m.registry()
        .get("diskless.tls.certificate.expiry.timestamp")
        .tag("listener", "INTERNAL")
        .gauge()
        .value();
  }

  private static double counted(StorageMetrics m, String name, String outcome) {
    return m.registry()
        .get(name)
        .tag("listener", "INTERNAL")
        .tag("outcome", outcome)
        .functionCounter()
        .count();
  }
}
