package dev.diskless.broker.config;

import dev.diskless.broker.security.SecurityConfig;
import java.util.Locale;
import java.util.Objects;
import org.apache.kafka.common.network.ListenerName;

/**
 * One named Kafka listener (Kafka's {@code listeners} entry): the address it binds, the address its
 * clients are told (its {@code advertised.listeners} entry), and how its clients authenticate and
 * whether it is encrypted. A broker may have several, e.g. a PLAINTEXT one for other brokers inside
 * the cluster network and a SASL_SSL one for clients outside it.
 *
 * @param name upper case, letters, digits and underscores (Kafka normalises listener names so)
 * @param port 0 picks a free port
 * @param advertisedPort 0: the port actually bound
 */
public record ListenerConfig(
    String name,
    String host,
    int port,
    String advertisedHost,
    int advertisedPort,
    SecurityConfig security) {

  public ListenerConfig {
    name = name.toUpperCase(Locale.ROOT);
    if (!name.matches("[A-Z0-9_]+")) {
      throw new IllegalArgumentException(
          "listener names are letters, digits and underscores, got '" + name + "'");
    }
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(advertisedHost, "advertisedHost");
    Objects.requireNonNull(security, "security");
    if (port < 0 || port > 65535 || advertisedPort < 0 || advertisedPort > 65535) {
      throw new IllegalArgumentException("listener " + name + ": port out of range");
    }
  }

  /**
   * The one listener of a broker configured without {@code listeners}: named after its protocol.
   */
  public static ListenerConfig single(
      String host, int port, String advertisedHost, SecurityConfig security) {
    return new ListenerConfig(security.protocol().name, host, port, advertisedHost, 0, security);
  }

  /** Kafka's name for it, as request contexts carry it. */
  public ListenerName listenerName() {
    return new ListenerName(name);
  }

  /** The same listener with another security. */
  public ListenerConfig withSecurity(SecurityConfig newSecurity) {
    return new ListenerConfig(name, host, port, advertisedHost, advertisedPort, newSecurity);
  }
}
