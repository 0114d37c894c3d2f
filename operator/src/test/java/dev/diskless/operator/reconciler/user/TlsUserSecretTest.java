package dev.diskless.operator.reconciler.user;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.pki.CertificateAuthority;
import dev.diskless.operator.pki.Pem;
import dev.diskless.operator.reconciler.cluster.ClusterListeners;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;
import org.junit.jupiter.api.Test;

/**
 * A tls user's Secret: issued once, kept while good, issued again 30 days before expiry or when the
 * clients CA changed; the brokers' CA follows the listener Secret; and the brokers' mapping rules
 * make the issued subject the user's principal.
 */
class TlsUserSecretTest {

  private static final Instant NOW = Instant.parse("2027-01-10T12:00:00Z");
  private final CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
  private final String brokersCa =
      Pem.certificate(CertificateAuthority.generate("cert-manager-ca", NOW).certificate());
  private final TlsUserInputs inputs = new TlsUserInputs(ca, Optional.of(brokersCa));

  @Test
  void theCertificateIsKeptWhileGoodAndIssuedAgainBeforeItExpires() {
    Secret first = secret(TlsUserSecret.data("alice", Optional.empty(), inputs, NOW));
    assertThat(first.getData()).containsOnlyKeys("user.crt", "user.key", "ca.crt");
    assertThat(decode(first, "ca.crt")).isEqualTo(brokersCa);
    assertThat(decode(first, "user.key")).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(TlsUserSecret.certificate(first).orElseThrow().getSubjectX500Principal().getName())
        .isEqualTo("CN=alice,OU=diskless-users");
    assertThat(TlsUserSecret.upToDate(first, "alice", inputs, NOW)).isTrue();

    Instant later = NOW.plus(Duration.ofDays(200));
    assertThat(TlsUserSecret.data("alice", Optional.of(first), inputs, later))
        .isEqualTo(first.getData());

    Instant renewal = NOW.plus(Duration.ofDays(336));
    assertThat(TlsUserSecret.upToDate(first, "alice", inputs, renewal)).isFalse();
    Secret renewed = secret(TlsUserSecret.data("alice", Optional.of(first), inputs, renewal));
    assertThat(renewed.getData().get("user.crt")).isNotEqualTo(first.getData().get("user.crt"));
    assertThat(renewed.getData().get("user.key")).isNotEqualTo(first.getData().get("user.key"));
    assertThat(TlsUserSecret.certificate(renewed).orElseThrow().getNotAfter().toInstant())
        .isEqualTo(renewal.plus(Duration.ofDays(365)));
    assertThat(TlsUserSecret.upToDate(renewed, "alice", inputs, renewal)).isTrue();
  }

  @Test
  void aNewClientsCaABrokersCaChangeOrLeftoverKeysMakeItStale() {
    Secret first = secret(TlsUserSecret.data("alice", Optional.empty(), inputs, NOW));
    TlsUserInputs newCa =
        new TlsUserInputs(
            CertificateAuthority.generate("orders-clients-ca", NOW), Optional.of(brokersCa));
    assertThat(TlsUserSecret.upToDate(first, "alice", newCa, NOW)).isFalse();
    assertThat(TlsUserSecret.data("alice", Optional.of(first), newCa, NOW).get("user.crt"))
        .isNotEqualTo(first.getData().get("user.crt"));

    TlsUserInputs otherBrokers = new TlsUserInputs(ca, Optional.empty());
    assertThat(TlsUserSecret.upToDate(first, "alice", otherBrokers, NOW)).isFalse();
    assertThat(TlsUserSecret.data("alice", Optional.of(first), otherBrokers, NOW))
        .containsOnlyKeys("user.crt", "user.key")
        .containsEntry("user.crt", first.getData().get("user.crt"));

    Map<String, String> withPassword = new HashMap<>(first.getData());
    withPassword.put("password", "c2VjcmV0");
    assertThat(TlsUserSecret.upToDate(secret(withPassword), "alice", inputs, NOW)).isFalse();
    assertThat(TlsUserSecret.upToDate(first, "bob", inputs, NOW)).isFalse();
  }

  @Test
  void theBrokersMappingRulesMakeTheIssuedSubjectTheUser() throws Exception {
    SslPrincipalMapper rules =
        SslPrincipalMapper.fromRules(ClusterListeners.PRINCIPAL_MAPPING_RULES);
    String subject =
        TlsUserSecret.certificate(
                secret(TlsUserSecret.data("alice", Optional.empty(), inputs, NOW)))
            .orElseThrow()
            .getSubjectX500Principal()
            .getName();
    assertThat(rules.getName(subject)).isEqualTo("alice");
    assertThat(rules.getName("CN=my-app.payments,OU=diskless-users")).isEqualTo("my-app.payments");
    // Other subjects (e.g. from cert-manager) keep Kafka's default, the whole name: their
    // principals and ACLs do not change when the operator starts issuing user certificates.
    assertThat(rules.getName("CN=bob,O=example")).isEqualTo("CN=bob,O=example");
    assertThat(rules.getName("CN=app")).isEqualTo("CN=app");
  }

  private static Secret secret(Map<String, String> data) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName("alice")
        .endMetadata()
        .withData(data)
        .build();
  }

  private static String decode(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.US_ASCII);
  }
}
