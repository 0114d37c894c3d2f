package dev.diskless.broker.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.playground.LocalCertificates;
import dev.diskless.broker.playground.LocalCertificates.Issued;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client certificate's name through Kafka's mapping rules; unreadable files named at start. */
class TlsContextsTest {

  @TempDir Path dir;
  private TlsConfig config;

  @BeforeEach
  void files() throws Exception {
    Issued ca = LocalCertificates.ca("unit-ca");
    Issued server = LocalCertificates.server(ca);
    config =
        TlsConfig.server(
            LocalCertificates.writeCertificates(dir.resolve("tls.crt"), server.certificate()),
            LocalCertificates.writePkcs1Key(dir.resolve("tls.key"), server.keys().getPrivate()));
  }

  @Test
  void theDistinguishedNameGoesThroughTheMappingRules() {
    try (TlsContexts mapped =
            new TlsContexts(
                config.withPrincipalMappingRules("RULE:^CN=([a-z]+),.*$/$1/U,DEFAULT"));
        TlsContexts defaults = new TlsContexts(config)) {
      assertThat(mapped.principal(peer("CN=alice,OU=payments,O=example")))
          .isEqualTo(new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "ALICE"));
      // Kafka's DEFAULT rule: the whole distinguished name.
      assertThat(defaults.principal(peer("CN=bob,O=example")))
          .isEqualTo(new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "CN=bob,O=example"));
      assertThat(defaults.principal(peer(null))).isEqualTo(KafkaPrincipal.ANONYMOUS);
    }
  }

  @Test
  void severalCaFilesAreAllTrusted() throws Exception {
    Issued listenerCa = LocalCertificates.ca("listener-ca");
    Issued clientsCa = LocalCertificates.ca("clients-ca");
    Path one = LocalCertificates.writeCertificates(dir.resolve("ca.crt"), listenerCa.certificate());
    Path two =
        LocalCertificates.writeCertificates(dir.resolve("clients.crt"), clientsCa.certificate());
    assertThat(TlsConfig.caFiles(one + ", " + two)).containsExactly(one, two);
    assertThat(TlsContexts.trusted(TlsConfig.caFiles(one + "," + two)))
        .extracting(c -> c.getSubjectX500Principal().getName())
        .containsExactly("CN=listener-ca", "CN=clients-ca");
    try (TlsContexts contexts =
        new TlsContexts(
            new TlsConfig(
                config.certificate(),
                config.key(),
                java.util.List.of(one, two),
                TlsConfig.ClientAuth.REQUIRED,
                "DEFAULT"))) {
      assertThat(contexts.current().isServer()).isTrue();
    }
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("absent.crt");
    assertThatThrownBy(() -> new TlsContexts(TlsConfig.server(missing, config.key())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("absent.crt");
  }

  /** A TLS session whose peer presented {@code dn}, or no certificate when null. */
  private static SSLSession peer(String dn) {
    return (SSLSession)
        Proxy.newProxyInstance(
            SSLSession.class.getClassLoader(),
            new Class<?>[] {SSLSession.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getPeerPrincipal")) {
                if (dn == null) {
                  throw new SSLPeerUnverifiedException("no client certificate");
                }
                return new X500Principal(dn);
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
