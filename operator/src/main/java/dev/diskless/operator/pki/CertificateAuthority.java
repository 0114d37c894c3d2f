package dev.diskless.operator.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority the operator keeps (a cluster's clients CA): a self-signed CA certificate
 * and its key, and client certificates issued with it. Keys are EC P-256 signed with SHA-256
 * (ECDSA): small, fast to make on a reconcile, and read by Kafka's PEM keystore, the JDK's TLS and
 * Netty. Certificates start an hour before they are made, so that brokers whose clocks run a little
 * behind accept them at once.
 *
 * @param certificate the CA's self-signed certificate
 * @param key its private key
 */
public record CertificateAuthority(X509Certificate certificate, PrivateKey key) {

  /** How long a clients CA certificate is valid. */
  public static final Duration CA_VALIDITY = Duration.ofDays(10 * 365);

  /**
   * How long before its end a CA certificate is renewed (same key and subject, so everything it
   * issued stays trusted): a year, so that clients' certificates capped at its end are issued again
   * well before they expire.
   */
  public static final Duration CA_RENEW_BEFORE = Duration.ofDays(365);

  /** How far back a new certificate's validity starts (clock skew between machines). */
  static final Duration BACKDATE = Duration.ofHours(1);

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A certificate and its key. */
  public record Issued(X509Certificate certificate, PrivateKey key) {}

  /** A new self-signed CA named {@code CN=<commonName>}, valid for {@link #CA_VALIDITY}. */
  public static CertificateAuthority generate(String commonName, Instant now) {
    try {
      KeyPair keys = newKeys();
      return new CertificateAuthority(
          selfSigned(name(commonName), keys.getPublic(), keys.getPrivate(), now),
          keys.getPrivate());
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot make a CA: " + e.getMessage(), e);
    }
  }

  /**
   * This CA's certificate made anew for {@link #CA_VALIDITY} from {@code now}, with the same key
   * and subject: certificates it issued verify against the renewed one, so trust stores can swap it
   * in without a gap.
   */
  public CertificateAuthority renewed(Instant now) {
    try {
      X500Name name = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
      return new CertificateAuthority(selfSigned(name, certificate.getPublicKey(), key, now), key);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot renew the CA: " + e.getMessage(), e);
    }
  }

  /** A CA certificate for {@code name} and its key pair, valid from {@code now}. */
  private static X509Certificate selfSigned(
      X500Name name, PublicKey publicKey, PrivateKey privateKey, Instant now)
      throws GeneralSecurityException, java.io.IOException {
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            name,
            serial(),
            Date.from(now.minus(BACKDATE)),
            Date.from(now.plus(CA_VALIDITY)),
            name,
            publicKey);
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
    builder.addExtension(
        Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    builder.addExtension(
        Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
    return sign(builder, privateKey);
  }

  /** Whether this CA's certificate is within {@link #CA_RENEW_BEFORE} of its end at {@code now}. */
  public boolean dueForRenewal(Instant now) {
    return !now.isBefore(certificate.getNotAfter().toInstant().minus(CA_RENEW_BEFORE));
  }

  /** The CA kept as PEM ({@code ca.crt}, {@code ca.key}). */
  public static CertificateAuthority fromPem(String certificatePem, String keyPem) {
    return new CertificateAuthority(
        Pem.certificates(certificatePem).getFirst(), Pem.privateKey(keyPem));
  }

  /**
   * The organizational unit of the certificates issued to users: the brokers' principal mapping
   * rule ({@code ClusterListeners.PRINCIPAL_MAPPING_RULES}) shortens only these to the user's name,
   * so other client certificates a listener trusts keep their whole DN as principal.
   */
  public static final String USERS_OU = "diskless-users";

  /** The subject of {@code user}'s certificate, as its RFC 2253 name: {@code CN=<user>,OU=...}. */
  public static String userSubject(String user) {
    return "CN=" + user + ",OU=" + USERS_OU;
  }

  /**
   * A client certificate for {@link #userSubject} of {@code commonName} with a new key, valid for
   * {@code validity} (never beyond the CA's own end), for TLS client authentication only.
   */
  public Issued issueClient(String commonName, Duration validity, Instant now) {
    try {
      KeyPair keys = newKeys();
      Instant end = now.plus(validity);
      if (end.isAfter(certificate.getNotAfter().toInstant())) {
        end = certificate.getNotAfter().toInstant();
      }
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              certificate,
              serial(),
              Date.from(now.minus(BACKDATE)),
              Date.from(end),
              userName(commonName),
              keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      // The key identifier alone, not the CA certificate's serial: a renewed CA certificate (same
      // key, new serial) must still match what it issued before, for OpenSSL as for the JDK.
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          ext.createAuthorityKeyIdentifier(certificate.getPublicKey()));
      return new Issued(sign(builder, key), keys.getPrivate());
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot issue a certificate: " + e.getMessage(), e);
    }
  }

  /** Whether this CA signed {@code issued}. */
  public boolean signed(X509Certificate issued) {
    try {
      issued.verify(certificate.getPublicKey());
      return issued.getIssuerX500Principal().equals(certificate.getSubjectX500Principal());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static X500Name userName(String commonName) {
    // RDNs in ASN.1 order, most significant first; the RFC 2253 string Kafka maps reads them in
    // reverse: CN=<user>,OU=diskless-users.
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.OU, USERS_OU)
        .addRDN(BCStyle.CN, commonName)
        .build();
  }

  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
  }

  private static KeyPair newKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  /** 159 random bits: positive and unique without a counter to keep (RFC 5280 allows 20 bytes). */
  private static BigInteger serial() {
    return new BigInteger(159, RANDOM);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }
}
