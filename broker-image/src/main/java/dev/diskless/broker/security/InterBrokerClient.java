package dev.diskless.broker.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * How this broker connects to the others' inter-broker listener, as Kafka client security settings:
 * on SASL it logs in as the bootstrap user with the listener's first enabled mechanism (a super
 * user in the playground and the operator, so that the CLUSTER_ACTION requests brokers send each
 * other pass ACLs); on TLS it trusts the listener's CA file and, when the listener asks for client
 * certificates, presents its own certificate, as Kafka brokers do with their keystore. The files
 * are read each time the settings are asked for, so a renewed certificate or CA shows as changed
 * settings (which {@code BrokerChannel} applies to new connections).
 */
public final class InterBrokerClient {

  private InterBrokerClient() {}

  /** The client settings for a listener with {@code security}; fails naming what is missing. */
  public static Map<String, Object> configs(String listener, SecurityConfig security) {
    Map<String, Object> out = new HashMap<>();
    if (security.sasl()) {
      SecurityConfig.BootstrapUser user =
          security
              .bootstrapUser()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "the inter-broker listener "
                              + listener
                              + " uses "
                              + security.protocol()
                              + ": brokers log in to each other as sasl.bootstrap.user, which is"
                              + " not set"));
      // SCRAM where offered: PLAIN sends the password itself, acceptable only inside TLS.
      String mechanism =
          SecurityConfig.SUPPORTED.stream()
              .filter(security.mechanisms()::contains)
              .findFirst()
              .orElseThrow();
      String module =
          mechanism.equals("PLAIN")
              ? "org.apache.kafka.common.security.plain.PlainLoginModule"
              : "org.apache.kafka.common.security.scram.ScramLoginModule";
      out.put(SaslConfigs.SASL_MECHANISM, mechanism);
      out.put(
          SaslConfigs.SASL_JAAS_CONFIG,
          module
              + " required username=\""
              + quoted(user.name())
              + "\" password=\""
              + quoted(user.password())
              + "\";");
    }
    if (security.tls().isPresent()) {
      TlsConfig tls = security.tls().get();
      if (!tls.ca().isEmpty()) {
        // The certificates themselves, not a file: Kafka's PEM truststore takes only one file,
        // and a change of the files' contents then changes these settings (BrokerChannel reloads).
        StringBuilder bundle = new StringBuilder();
        for (Path ca : tls.ca()) {
          bundle.append(read(ca)).append('\n');
        }
        out.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
        out.put(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, bundle.toString());
      }
      if (tls.clientAuth() != TlsConfig.ClientAuth.NONE) {
        out.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
        out.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, read(tls.certificate()));
        out.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, pkcs8(tls.key()));
      }
    }
    return out;
  }

  /**
   * The key as unencrypted PKCS#8 PEM, the only form Kafka's PEM keystore reads; the listener also
   * accepts PKCS#1 and SEC1 (cert-manager's defaults).
   */
  private static String pkcs8(Path file) {
    try (PEMParser parser = new PEMParser(Files.newBufferedReader(file))) {
      Object pem = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      PrivateKey key =
          switch (pem) {
            case PEMKeyPair pair -> converter.getKeyPair(pair).getPrivate();
            case PrivateKeyInfo info -> converter.getPrivateKey(info);
            case null, default ->
                throw new IllegalArgumentException(
                    file + " holds no unencrypted private key (PKCS#8, PKCS#1 or SEC1 PEM)");
          };
      return "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(key.getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static String quoted(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
