package dev.diskless.storage.metadata;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Where clients of one named listener reach a broker: the listener's name (upper case, as Kafka
 * normalises it) and its advertised host and port. A broker registers one per listener, so that
 * each listener's clients are told the addresses of their own listener on every broker.
 */
public record BrokerEndpoint(String listener, String host, int port) {

  public BrokerEndpoint {
    listener = listener.toUpperCase(Locale.ROOT);
    Objects.requireNonNull(host, "host");
    if (listener.isEmpty() || !listener.matches("[A-Z0-9_]+")) {
      throw new IllegalArgumentException(
          "a listener name is letters, digits and underscores, got '" + listener + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port of listener " + listener + " out of range: " + port);
    }
  }

  /** Kafka's {@code advertised.listeners} form: {@code NAME://host:port}, IPv6 in brackets. */
  @Override
  public String toString() {
    return listener + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** The endpoints in the registry's text form: each {@link #toString()}, comma-separated. */
  public static String format(List<BrokerEndpoint> endpoints) {
    return String.join(",", endpoints.stream().map(BrokerEndpoint::toString).toList());
  }

  /** Reads {@link #format}'s output (empty or null: no endpoints). */
  public static List<BrokerEndpoint> parse(String text) {
    List<BrokerEndpoint> out = new ArrayList<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    for (String entry : text.split(",")) {
      out.add(parseOne(entry.trim()));
    }
    return out;
  }

  /** One {@code NAME://host:port}; the message names the entry when it is malformed. */
  public static BrokerEndpoint parseOne(String entry) {
    int scheme = entry.indexOf("://");
    int colon = entry.lastIndexOf(':');
    if (scheme <= 0 || colon <= scheme + 2) {
      throw new IllegalArgumentException("a listener is NAME://host:port, got '" + entry + "'");
    }
    String host = entry.substring(scheme + 3, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(entry.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "a listener is NAME://host:port, got '" + entry + "' (the port is not a number)");
    }
    return new BrokerEndpoint(entry.substring(0, scheme), host, port);
  }
}
