package dev.diskless.broker.security;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.common.security.auth.SecurityProtocol;

/**
 * How clients of the Kafka listener prove who they are and whether it is encrypted: nothing
 * (PLAINTEXT), TLS with optional client certificates (SSL), SASL with one of the enabled mechanisms
 * before any request but ApiVersions (SASL_PLAINTEXT), or both (SASL_SSL). An optional bootstrap
 * user gets SCRAM credentials at start, so that a secured cluster has someone to manage the other
 * users with.
 *
 * @param protocol PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
 * @param mechanisms SASL mechanisms offered, in the order given (SCRAM-SHA-512, SCRAM-SHA-256,
 *     PLAIN)
 * @param bootstrapUser a user and password to store SCRAM credentials for at start
 * @param tls the certificate, key and client-certificate rules (SSL and SASL_SSL only)
 * @param authorization whether and how requests are checked against ACLs
 * @param maxReauth how long a SASL session lasts before the client must re-authenticate on its
 *     connection (Kafka's {@code connections.max.reauth.ms}, KIP-368); zero for ever
 */
public record SecurityConfig(
    SecurityProtocol protocol,
    List<String> mechanisms,
    Optional<BootstrapUser> bootstrapUser,
    Optional<TlsConfig> tls,
    Optional<AuthorizationConfig> authorization,
    Duration maxReauth) {

  /** The mechanisms this broker can run. */
  public static final List<String> SUPPORTED = List.of("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN");

  /** No authentication, no encryption. */
  public static final SecurityConfig PLAINTEXT =
      new SecurityConfig(
          SecurityProtocol.PLAINTEXT,
          List.of(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Duration.ZERO);

  /** A user whose credentials the broker keeps in step with this password at start. */
  public record BootstrapUser(String name, String password) {
    public BootstrapUser {
      if (name.isBlank() || password.isEmpty()) {
        throw new IllegalArgumentException(
            "sasl.bootstrap.user and sasl.bootstrap.password must both be non-empty");
      }
    }

    @Override
    public String toString() {
      return "BootstrapUser[name=" + name + ", password=(hidden)]";
    }
  }

  /** The TLS settings, as the broker settings give them. */
  public record TlsSettings(
      Optional<String> certificate,
      Optional<String> key,
      Optional<String> ca,
      String clientAuth,
      String principalMappingRules) {}

  public SecurityConfig {
    Objects.requireNonNull(protocol, "protocol");
    mechanisms = List.copyOf(mechanisms);
    Objects.requireNonNull(bootstrapUser, "bootstrapUser");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(authorization, "authorization");
    if (maxReauth.isNegative()) {
      throw new IllegalArgumentException(
          "connections.max.reauth.ms must not be negative, got " + maxReauth.toMillis());
    }
    if (encrypted(protocol) && tls.isEmpty()) {
      throw new IllegalArgumentException(
          (protocol == SecurityProtocol.SSL ? "an " : "a ")
              + protocol
              + " listener needs ssl.certificate.location and ssl.key.location");
    }
    if (!encrypted(protocol)) {
      tls = Optional.empty();
    }
    for (String m : mechanisms) {
      if (!SUPPORTED.contains(m)) {
        throw new IllegalArgumentException(
            "sasl.enabled.mechanisms: unsupported mechanism "
                + m
                + " (supported: "
                + SUPPORTED
                + ")");
      }
    }
    if (sasl(protocol) && mechanisms.isEmpty()) {
      throw new IllegalArgumentException(
          "sasl.enabled.mechanisms must name at least one mechanism on a "
              + protocol
              + " listener");
    }
  }

  /** SASL_PLAINTEXT with {@code mechanisms} and no bootstrap user. */
  public static SecurityConfig sasl(String... mechanisms) {
    return new SecurityConfig(
        SecurityProtocol.SASL_PLAINTEXT,
        Arrays.asList(mechanisms),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Duration.ZERO);
  }

  /** The same with a bootstrap user. */
  public SecurityConfig withBootstrapUser(String name, String password) {
    return new SecurityConfig(
        protocol,
        mechanisms,
        Optional.of(new BootstrapUser(name, password)),
        tls,
        authorization,
        maxReauth);
  }

  /** The same encrypted with TLS: PLAINTEXT becomes SSL, SASL_PLAINTEXT becomes SASL_SSL. */
  public SecurityConfig withTls(TlsConfig config) {
    return new SecurityConfig(
        sasl() ? SecurityProtocol.SASL_SSL : SecurityProtocol.SSL,
        mechanisms,
        bootstrapUser,
        Optional.of(config),
        authorization,
        maxReauth);
  }

  /** The same with requests checked against ACLs. */
  public SecurityConfig withAuthorization(AuthorizationConfig config) {
    return new SecurityConfig(
        protocol, mechanisms, bootstrapUser, tls, Optional.of(config), maxReauth);
  }

  /** The same with SASL sessions lasting {@code lifetime} before re-authentication. */
  public SecurityConfig withMaxReauth(Duration lifetime) {
    return new SecurityConfig(protocol, mechanisms, bootstrapUser, tls, authorization, lifetime);
  }

  /** True when clients must authenticate with SASL. */
  public boolean sasl() {
    return sasl(protocol);
  }

  private static boolean sasl(SecurityProtocol p) {
    return p == SecurityProtocol.SASL_PLAINTEXT || p == SecurityProtocol.SASL_SSL;
  }

  private static boolean encrypted(SecurityProtocol p) {
    return p == SecurityProtocol.SSL || p == SecurityProtocol.SASL_SSL;
  }

  /** From the broker settings; names the setting that is wrong. */
  public static SecurityConfig parse(
      String protocol,
      String mechanisms,
      Optional<String> user,
      Optional<String> password,
      TlsSettings tlsSettings,
      Optional<AuthorizationConfig> authorization,
      Duration maxReauth) {
    SecurityProtocol parsed;
    try {
      parsed = SecurityProtocol.forName(protocol.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "listener.security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "
              + protocol);
    }
    List<String> names = new ArrayList<>();
    for (String m : mechanisms.split(",")) {
      if (!m.isBlank()) {
        names.add(m.trim());
      }
    }
    if (user.isPresent() != password.isPresent()) {
      throw new IllegalArgumentException(
          "sasl.bootstrap.user and sasl.bootstrap.password must be given together");
    }
    Optional<BootstrapUser> bootstrap = user.map(u -> new BootstrapUser(u, password.orElseThrow()));
    Optional<TlsConfig> tls = Optional.empty();
    if (encrypted(parsed)) {
      if (tlsSettings.certificate().isEmpty() || tlsSettings.key().isEmpty()) {
        throw new IllegalArgumentException(
            (parsed == SecurityProtocol.SSL ? "an " : "a ")
                + parsed
                + " listener needs ssl.certificate.location and ssl.key.location");
      }
      tls =
          Optional.of(
              new TlsConfig(
                  Path.of(tlsSettings.certificate().get()),
                  Path.of(tlsSettings.key().get()),
                  tlsSettings.ca().map(TlsConfig::caFiles).orElse(java.util.List.of()),
                  TlsConfig.ClientAuth.parse(tlsSettings.clientAuth()),
                  tlsSettings.principalMappingRules()));
    }
    return new SecurityConfig(
        parsed, sasl(parsed) ? names : List.of(), bootstrap, tls, authorization, maxReauth);
  }
}
