package dev.diskless.broker.security;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.common.security.auth.SecurityProtocol;

/**
 * How clients of the Kafka listener prove who they are: nothing (PLAINTEXT), or SASL with one of
 * the enabled mechanisms before any request but ApiVersions (SASL_PLAINTEXT). An optional bootstrap
 * user gets SCRAM credentials at start, so that a secured cluster has someone to manage the other
 * users with.
 *
 * @param protocol PLAINTEXT or SASL_PLAINTEXT
 * @param mechanisms SASL mechanisms offered, in the order given (SCRAM-SHA-512, SCRAM-SHA-256,
 *     PLAIN)
 * @param bootstrapUser a user and password to store SCRAM credentials for at start
 */
public record SecurityConfig(
    SecurityProtocol protocol, List<String> mechanisms, Optional<BootstrapUser> bootstrapUser) {

  /** The mechanisms this broker can run. */
  public static final List<String> SUPPORTED = List.of("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN");

  /** No authentication. */
  public static final SecurityConfig PLAINTEXT =
      new SecurityConfig(SecurityProtocol.PLAINTEXT, List.of(), Optional.empty());

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

  public SecurityConfig {
    Objects.requireNonNull(protocol, "protocol");
    mechanisms = List.copyOf(mechanisms);
    Objects.requireNonNull(bootstrapUser, "bootstrapUser");
    if (protocol != SecurityProtocol.PLAINTEXT && protocol != SecurityProtocol.SASL_PLAINTEXT) {
      throw new IllegalArgumentException(
          "listener.security.protocol must be PLAINTEXT or SASL_PLAINTEXT, got " + protocol);
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
    if (protocol == SecurityProtocol.SASL_PLAINTEXT && mechanisms.isEmpty()) {
      throw new IllegalArgumentException(
          "sasl.enabled.mechanisms must name at least one mechanism on a SASL_PLAINTEXT listener");
    }
  }

  /** SASL_PLAINTEXT with {@code mechanisms} and no bootstrap user. */
  public static SecurityConfig sasl(String... mechanisms) {
    return new SecurityConfig(
        SecurityProtocol.SASL_PLAINTEXT, Arrays.asList(mechanisms), Optional.empty());
  }

  /** The same with a bootstrap user. */
  public SecurityConfig withBootstrapUser(String name, String password) {
    return new SecurityConfig(protocol, mechanisms, Optional.of(new BootstrapUser(name, password)));
  }

  /** True when clients must authenticate with SASL. */
  public boolean sasl() {
    return protocol == SecurityProtocol.SASL_PLAINTEXT;
  }

  /** From the broker settings; names the setting that is wrong. */
  public static SecurityConfig parse(
      String protocol, String mechanisms, Optional<String> user, Optional<String> password) {
    SecurityProtocol parsed;
    try {
      parsed = SecurityProtocol.forName(protocol.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "listener.security.protocol must be PLAINTEXT or SASL_PLAINTEXT, got " + protocol);
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
    return new SecurityConfig(
        parsed, parsed == SecurityProtocol.PLAINTEXT ? List.of() : names, bootstrap);
  }
}
