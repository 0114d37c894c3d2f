package dev.diskless.operator.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.security.ssl.DefaultSslEngineFactory;
import org.junit.jupiter.api.Test;

/**
 * The clients CA and the certificates it issues: the chain verifies against the CA (PKIX, as a
 * broker's trust manager checks it), the subject is CN=<user>, validity and key type are as
 * documented, the key is PKCS#8 PEM that Kafka's own PEM keystore loads, and a certificate of
 * another CA does not verify.
 */
class CertificateAuthorityTest {

  private static final Instant NOW = Instant.parse("2027-01-10T12:00:00Z");

  @Test
  void theCaIsSelfSignedEcAndValidForTenYears() throws Exception {
    CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
    X509Certificate c = ca.certificate();
    c.verify(c.getPublicKey());
    assertThat(c.getSubjectX500Principal().getName()).isEqualTo("CN=orders-clients-ca");
    assertThat(c.getBasicConstraints()).isZero(); // a CA that signs only end certificates
    assertThat(c.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(c.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(c.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(c.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofHours(1)));
    assertThat(c.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(3650)));
  }

  @Test
  void anIssuedCertificateVerifiesAgainstTheCaAndNamesTheUser() throws Exception {
    CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
    CertificateAuthority.Issued alice = ca.issueClient("alice", Duration.ofDays(365), NOW);
    X509Certificate c = alice.certificate();

    validate(c, ca.certificate(), NOW.plus(Duration.ofDays(100)));
    assertThat(ca.signed(c)).isTrue();
    assertThat(c.getSubjectX500Principal().getName()).isEqualTo("CN=alice,OU=diskless-users");
    assertThat(c.getBasicConstraints()).isEqualTo(-1);
    assertThat(c.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2"); // clientAuth
    assertThat(c.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofHours(1)));
    assertThat(c.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(365)));
    // Expired is refused by the same validation.
    assertThatThrownBy(() -> validate(c, ca.certificate(), NOW.plus(Duration.ofDays(366))))
        .isInstanceOf(CertPathValidatorException.class);

    // The key is the certificate's: what it signs, the certificate's public key verifies.
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(Pem.privateKey(Pem.privateKey(alice.key())));
    signer.update(new byte[] {1, 2, 3});
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(c.getPublicKey());
    verifier.update(new byte[] {1, 2, 3});
    assertThat(verifier.verify(signature)).isTrue();
  }

  @Test
  void aCertificateOfAnotherCaDoesNotVerify() {
    CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
    CertificateAuthority other = CertificateAuthority.generate("orders-clients-ca", NOW);
    X509Certificate c = other.issueClient("alice", Duration.ofDays(365), NOW).certificate();
    assertThat(ca.signed(c)).isFalse();
    assertThatThrownBy(() -> validate(c, ca.certificate(), NOW))
        .isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void noCertificateOutlivesItsCa() {
    CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
    Instant late = NOW.plus(Duration.ofDays(3600));
    X509Certificate c = ca.issueClient("alice", Duration.ofDays(365), late).certificate();
    assertThat(c.getNotAfter()).isEqualTo(ca.certificate().getNotAfter());
  }

  @Test
  void aRenewedCaKeepsItsKeyAndSubjectAndTrustsWhatItIssuedBefore() throws Exception {
    CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
    X509Certificate before = ca.issueClient("alice", Duration.ofDays(365), NOW).certificate();
    Instant dueAt = NOW.plus(Duration.ofDays(3650 - 365));
    assertThat(ca.dueForRenewal(dueAt.minusSeconds(1))).isFalse();
    assertThat(ca.dueForRenewal(dueAt)).isTrue();

    CertificateAuthority renewed = ca.renewed(dueAt);
    assertThat(renewed.key()).isEqualTo(ca.key());
    assertThat(renewed.certificate().getPublicKey()).isEqualTo(ca.certificate().getPublicKey());
    assertThat(renewed.certificate().getSubjectX500Principal())
        .isEqualTo(ca.certificate().getSubjectX500Principal());
    assertThat(renewed.certificate().getSerialNumber())
        .isNotEqualTo(ca.certificate().getSerialNumber());
    assertThat(renewed.certificate().getNotAfter().toInstant())
        .isEqualTo(dueAt.plus(Duration.ofDays(3650)));
    assertThat(renewed.dueForRenewal(dueAt)).isFalse();
    renewed.certificate().verify(renewed.certificate().getPublicKey());

    // A trust store holding only the renewed certificate accepts what the old one issued.
    validate(before, renewed.certificate(), NOW.plus(Duration.ofDays(100)));
    assertThat(renewed.signed(before)).isTrue();
    X509Certificate after = renewed.issueClient("alice", Duration.ofDays(365), dueAt).certificate();
    validate(after, ca.certificate(), dueAt.plus(Duration.ofDays(1)));
  }

  @Test
  void theCaSurvivesPemAndKafkasPemKeystoreLoadsTheIssuedKey() throws Exception {
    CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
    CertificateAuthority again =
        CertificateAuthority.fromPem(Pem.certificate(ca.certificate()), Pem.privateKey(ca.key()));
    assertThat(again.certificate()).isEqualTo(ca.certificate());
    assertThat(again.key().getEncoded()).isEqualTo(ca.key().getEncoded());

    CertificateAuthority.Issued alice =
        again.issueClient("alice", Duration.ofDays(365), Instant.now());
    String key = Pem.privateKey(alice.key());
    assertThat(key).startsWith("-----BEGIN PRIVATE KEY-----");
    Map<String, Object> props = new HashMap<>();
    props.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
    props.put(
        SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, Pem.certificate(alice.certificate()));
    props.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, key);
    props.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
    props.put(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, Pem.certificate(ca.certificate()));
    ConfigDef def = new ConfigDef();
    SslConfigs.addClientSslSupport(def);
    try (DefaultSslEngineFactory factory = new DefaultSslEngineFactory()) {
      factory.configure(def.parse(props));
      assertThat(factory.keystore().getCertificate("kafka")).isEqualTo(alice.certificate());
    }
  }

  private static void validate(X509Certificate c, X509Certificate ca, Instant at) throws Exception {
    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
    params.setRevocationEnabled(false);
    params.setDate(Date.from(at));
    CertPathValidator.getInstance("PKIX")
        .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(c)), params);
  }
}
