package dev.diskless.broker.playground;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates for the secure playground and TLS tests, made as a small CA would: a self-signed CA,
 * server certificates for 127.0.0.1 and localhost, client certificates with a distinguished name;
 * written as PEM files the way cert-manager writes a TLS Secret (the key as PKCS#1 for RSA) or as a
 * Kafka client's PEM keystore wants them (PKCS#8).
 */
public final class LocalCertificates {

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate and its key pair. */
  public record Issued(X509Certificate certificate, KeyPair keys) {}

  private LocalCertificates() {}

  /** A self-signed CA named {@code cn}. */
  public static Issued ca(String cn) {
    KeyPair keys = rsa();
    X500Name name = new X500Name("CN=" + cn);
    return sign(name, keys, name, keys.getPrivate(), true, null);
  }

  /** A server certificate for 127.0.0.1 and localhost, issued by {@code ca}. */
  public static Issued server(Issued ca) {
    KeyPair keys = rsa();
    GeneralNames san =
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
              new GeneralName(GeneralName.dNSName, "localhost")
            });
    return sign(new X500Name("CN=localhost"), keys, issuer(ca), ca.keys().getPrivate(), false, san);
  }

  /** A client certificate with distinguished name {@code dn}, issued by {@code ca}. */
  public static Issued client(Issued ca, String dn) {
    KeyPair keys = rsa();
    return sign(new X500Name(dn), keys, issuer(ca), ca.keys().getPrivate(), false, null);
  }

  /** Writes certificates as PEM (a chain: leaf first). */
  public static Path writeCertificates(Path file, X509Certificate... chain) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      for (X509Certificate c : chain) {
        pem.writeObject(c);
      }
    }
    return Files.writeString(file, out.toString());
  }

  /** Writes a private key as cert-manager does for RSA by default: PKCS#1 ("RSA PRIVATE KEY"). */
  public static Path writePkcs1Key(Path file, PrivateKey key) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(key);
    }
    String text = out.toString();
    if (!text.contains("BEGIN RSA PRIVATE KEY")) {
      throw new IllegalStateException("expected a PKCS#1 key, got " + text.lines().findFirst());
    }
    return Files.writeString(file, text);
  }

  /** PEM text of an unencrypted PKCS#8 key ("PRIVATE KEY"), as Kafka's PEM keystore reads it. */
  public static String pkcs8(PrivateKey key) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(new JcaPKCS8Generator(key, null));
    }
    return out.toString();
  }

  /** PEM text of a certificate. */
  public static String pem(X509Certificate certificate) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(certificate);
    }
    return out.toString();
  }

  private static X500Name issuer(Issued ca) {
    return X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
  }

  private static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Issued sign(
      X500Name subject,
      KeyPair keys,
      X500Name issuer,
      PrivateKey issuerKey,
      boolean ca,
      GeneralNames san) {
    try {
      Instant now = Instant.now();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              issuer,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(now.minus(Duration.ofHours(1))),
              Date.from(now.plus(Duration.ofDays(2))),
              subject,
              keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(
              ca
                  ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                  : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      if (san != null) {
        builder.addExtension(Extension.subjectAlternativeName, false, san);
      }
      X509Certificate certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKey)));
      return new Issued(certificate, keys);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
