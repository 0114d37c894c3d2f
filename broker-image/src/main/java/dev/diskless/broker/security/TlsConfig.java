package dev.diskless.broker.security;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * TLS of the Kafka listener from PEM files, as a Kubernetes TLS Secret holds them (cert-manager's
 * {@code tls.crt}, {@code tls.key}, {@code ca.crt}); the files are read again when they change.
 *
 * @param certificate the server's certificate chain (PEM)
 * @param key its private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted)
 * @param ca PEM files of the certificates client certificates are checked against (mTLS), all
 *     trusted (Kafka's {@code ssl.ca.location}, here a comma-separated list, so that a listener can
 *     trust the CA of its own Secret and the operator's clients CA, each from a Secret the kubelet
 *     keeps current); required unless {@code clientAuth} is NONE
 * @param clientAuth Kafka's {@code ssl.client.auth}: none, requested or required
 * @param principalMappingRules Kafka's {@code ssl.principal.mapping.rules}: how a client
 *     certificate's distinguished name becomes a user name
 */
public record TlsConfig(
    Path certificate,
    Path key,
    List<Path> ca,
    ClientAuth clientAuth,
    String principalMappingRules) {

  /** Kafka's {@code ssl.client.auth} values. */
  public enum ClientAuth {
    NONE,
    REQUESTED,
    REQUIRED;

    static ClientAuth parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "ssl.client.auth must be none, requested or required, got " + value);
      }
    }
  }

  public TlsConfig {
    Objects.requireNonNull(certificate, "ssl.certificate.location");
    Objects.requireNonNull(key, "ssl.key.location");
    ca = List.copyOf(ca);
    Objects.requireNonNull(clientAuth, "clientAuth");
    Objects.requireNonNull(principalMappingRules, "principalMappingRules");
    if (clientAuth != ClientAuth.NONE && ca.isEmpty()) {
      throw new IllegalArgumentException(
          "ssl.client.auth="
              + clientAuth.name().toLowerCase(java.util.Locale.ROOT)
              + " needs ssl.ca.location (the certificates client certificates are checked against)");
    }
  }

  /** Server TLS only: no client certificates asked for, Kafka's default principal rules. */
  public static TlsConfig server(Path certificate, Path key) {
    return new TlsConfig(certificate, key, List.of(), ClientAuth.NONE, "DEFAULT");
  }

  /** The same asking clients for certificates checked against {@code ca}. */
  public TlsConfig withClientAuth(ClientAuth auth, Path caFile) {
    return new TlsConfig(certificate, key, List.of(caFile), auth, principalMappingRules);
  }

  /** Parses {@code ssl.ca.location}: one PEM file or several, comma-separated. */
  public static List<Path> caFiles(String location) {
    return java.util.Arrays.stream(location.split(","))
        .map(String::trim)
        .filter(f -> !f.isEmpty())
        .map(Path::of)
        .toList();
  }

  /** The same with other principal mapping rules. */
  public TlsConfig withPrincipalMappingRules(String rules) {
    return new TlsConfig(certificate, key, ca, clientAuth, rules);
  }
}
