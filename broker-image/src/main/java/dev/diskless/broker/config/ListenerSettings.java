package dev.diskless.broker.config;

import static dev.diskless.config.BrokerSettingsSchema.*;

import dev.diskless.broker.security.AuthorizationConfig;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.config.BrokerSettingsValues;
import dev.diskless.storage.metadata.BrokerEndpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the broker's listeners from Kafka's settings: {@code listeners}, {@code
 * advertised.listeners}, {@code listener.security.protocol.map}, {@code inter.broker.listener.name}
 * and per-listener {@code listener.name.<name>.<setting>} overrides. Without {@code listeners} the
 * broker has one listener on {@code listen.host:listen.port} named after {@code
 * listener.security.protocol}, as before listeners were named. Messages name the setting and the
 * listener that is wrong.
 *
 * @param listeners in the order {@code listeners} gives them
 * @param interBroker the name of the listener brokers connect to each other on
 */
record ListenerSettings(List<ListenerConfig> listeners, String interBroker) {

  static ListenerSettings read(
      BrokerSettingsValues values,
      Optional<AuthorizationConfig> authorization,
      Duration maxReauth) {
    Optional<String> declared = values.find(LISTENERS).filter(s -> !s.isBlank());
    if (declared.isEmpty()) {
      String protocol = values.get(LISTENER_SECURITY_PROTOCOL);
      requireKnownListeners(values, List.of(protocol.trim()));
      SecurityConfig security = security(values, protocol, protocol, authorization, maxReauth);
      ListenerConfig only =
          ListenerConfig.single(
              values.get(LISTEN_HOST),
              values.get(LISTEN_PORT),
              values.get(ADVERTISED_HOST),
              security);
      Optional<String> interBroker = values.find(INTER_BROKER_LISTENER_NAME);
      if (interBroker.isPresent() && !interBroker.get().equalsIgnoreCase(only.name())) {
        throw new IllegalArgumentException(
            INTER_BROKER_LISTENER_NAME.key()
                + " "
                + interBroker.get()
                + " names no listener: without "
                + LISTENERS.key()
                + " the one listener is "
                + only.name());
      }
      return new ListenerSettings(List.of(only), only.name());
    }
    Map<String, String> protocols = protocolMap(values.get(LISTENER_SECURITY_PROTOCOL_MAP));
    Map<String, BrokerEndpoint> advertised = new LinkedHashMap<>();
    for (BrokerEndpoint e :
        endpoints(values.find(ADVERTISED_LISTENERS).orElse(""), ADVERTISED_LISTENERS.key())) {
      if (advertised.put(e.listener(), e) != null) {
        throw new IllegalArgumentException(
            ADVERTISED_LISTENERS.key() + " names listener " + e.listener() + " twice");
      }
    }
    List<BrokerEndpoint> binds = endpoints(declared.get(), LISTENERS.key());
    requireKnownListeners(values, binds.stream().map(BrokerEndpoint::listener).toList());
    List<ListenerConfig> listeners = new ArrayList<>();
    for (BrokerEndpoint bind : binds) {
      String protocol = protocols.get(bind.listener());
      if (protocol == null) {
        throw new IllegalArgumentException(
            "listener "
                + bind.listener()
                + " has no security protocol in "
                + LISTENER_SECURITY_PROTOCOL_MAP.key()
                + " ("
                + values.get(LISTENER_SECURITY_PROTOCOL_MAP)
                + ")");
      }
      BrokerEndpoint told = advertised.remove(bind.listener());
      if (told != null && (told.host().equals("0.0.0.0") || told.host().equals("::"))) {
        throw new IllegalArgumentException(
            ADVERTISED_LISTENERS.key()
                + ": listener "
                + told.listener()
                + " advertises "
                + told.host()
                + ", which no client can connect to");
      }
      listeners.add(
          new ListenerConfig(
              bind.listener(),
              // Kafka binds every interface when the host is empty.
              bind.host().isEmpty() ? "0.0.0.0" : bind.host(),
              bind.port(),
              // advertised.host stands in where advertised.listeners gives no host (Kafka takes
              // the machine's name there).
              told == null || told.host().isEmpty() ? values.require(ADVERTISED_HOST) : told.host(),
              told == null ? 0 : told.port(),
              security(values, bind.listener(), protocol, authorization, maxReauth)));
    }
    if (!advertised.isEmpty()) {
      throw new IllegalArgumentException(
          ADVERTISED_LISTENERS.key()
              + " names listeners that "
              + LISTENERS.key()
              + " does not: "
              + advertised.keySet());
    }
    String interBroker =
        values
            .find(INTER_BROKER_LISTENER_NAME)
            .map(n -> n.trim().toUpperCase(Locale.ROOT))
            .orElseGet(() -> defaultInterBroker(listeners));
    if (listeners.stream().noneMatch(l -> l.name().equals(interBroker))) {
      throw new IllegalArgumentException(
          INTER_BROKER_LISTENER_NAME.key()
              + " "
              + interBroker
              + " is not one of "
              + LISTENERS.key()
              + " ("
              + declared.get()
              + ")");
    }
    return new ListenerSettings(listeners, interBroker);
  }

  /**
   * Kafka's default: the listener named PLAINTEXT (its security.inter.broker.protocol); a single
   * listener is unambiguous too. Otherwise the choice is the user's to make.
   */
  private static String defaultInterBroker(List<ListenerConfig> listeners) {
    if (listeners.stream().anyMatch(l -> l.name().equals("PLAINTEXT"))) {
      return "PLAINTEXT";
    }
    if (listeners.size() == 1) {
      return listeners.get(0).name();
    }
    throw new IllegalArgumentException(
        INTER_BROKER_LISTENER_NAME.key()
            + " is required: there are several listeners and none is named PLAINTEXT ("
            + listeners.stream().map(ListenerConfig::name).toList()
            + ")");
  }

  /**
   * A per-listener setting for a listener that does not exist (a typo) would silently leave the
   * real listener with the broker-wide value: refused, naming it.
   */
  private static void requireKnownListeners(BrokerSettingsValues values, List<String> names) {
    for (String key : values.perListener().keySet()) {
      String name =
          key.substring(LISTENER_PREFIX.length(), key.indexOf('.', LISTENER_PREFIX.length()));
      if (names.stream().noneMatch(n -> n.equalsIgnoreCase(name))) {
        throw new IllegalArgumentException(key + " names no listener (listeners: " + names + ")");
      }
    }
  }

  private static SecurityConfig security(
      BrokerSettingsValues values,
      String listener,
      String protocol,
      Optional<AuthorizationConfig> authorization,
      Duration maxReauth) {
    try {
      return SecurityConfig.parse(
          protocol,
          values.getForListener(listener, SASL_ENABLED_MECHANISMS),
          values.find(SASL_BOOTSTRAP_USER),
          values.find(SASL_BOOTSTRAP_PASSWORD),
          new SecurityConfig.TlsSettings(
              values.findForListener(listener, SSL_CERTIFICATE_LOCATION),
              values.findForListener(listener, SSL_KEY_LOCATION),
              values.findForListener(listener, SSL_CA_LOCATION),
              values.getForListener(listener, SSL_CLIENT_AUTH),
              values.getForListener(listener, SSL_PRINCIPAL_MAPPING_RULES)),
          authorization,
          maxReauth);
    } catch (IllegalArgumentException e) {
      if (values.find(LISTENERS).filter(s -> !s.isBlank()).isEmpty()) {
        throw e;
      }
      throw new IllegalArgumentException("listener " + listener + ": " + e.getMessage(), e);
    }
  }

  private static List<BrokerEndpoint> endpoints(String text, String key) {
    try {
      return BrokerEndpoint.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
    }
  }

  /** {@code NAME:PROTOCOL,...}, names upper-cased. */
  private static Map<String, String> protocolMap(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String entry : text.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int colon = entry.indexOf(':');
      if (colon <= 0 || colon == entry.length() - 1) {
        throw new IllegalArgumentException(
            LISTENER_SECURITY_PROTOCOL_MAP.key()
                + " entries are NAME:PROTOCOL, got '"
                + entry.trim()
                + "'");
      }
      out.put(
          entry.substring(0, colon).trim().toUpperCase(Locale.ROOT),
          entry.substring(colon + 1).trim());
    }
    return out;
  }
}
