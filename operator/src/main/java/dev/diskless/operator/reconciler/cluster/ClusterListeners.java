package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.KafkaListenerSpec;
import dev.diskless.operator.crd.KafkaListenerSpec.Authentication.Type;
import dev.diskless.operator.pki.CertificateAuthority;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The Kafka listeners a cluster's brokers run: the named ones of {@code spec.listeners.kafka}, or
 * the one plaintext listener on {@code kafkaPort}. Each knows its Kafka security protocol, the SASL
 * mechanism it offers, where its TLS files are mounted and its port's name in the pod and Services.
 *
 * @param named whether the spec names its listeners (else the broker keeps its single-listener
 *     settings, so that existing clusters render exactly as before)
 * @param all in the spec's order
 * @param interBroker the name of the listener brokers use between them
 */
public record ClusterListeners(boolean named, List<Listener> all, String interBroker) {

  /** Where a listener's TLS Secret is mounted: {@code /etc/diskless/tls/<name>}. */
  public static final String TLS_DIR = "/etc/diskless/tls";

  /** Where the clients CA's certificate is mounted (only {@code ca.crt}, never its key). */
  public static final String CLIENTS_CA_DIR = "/etc/diskless/clients-ca";

  /**
   * Kafka's {@code ssl.principal.mapping.rules} of mTLS listeners: a certificate whose subject is
   * {@code CN=<name>,OU=diskless-users} (what the operator issues to DisklessKafkaUsers) is {@code
   * User:<name>}; any other, e.g. one cert-manager issued, keeps Kafka's default, its whole
   * distinguished name, so that principals and ACLs of existing client certificates do not change.
   */
  public static final String PRINCIPAL_MAPPING_RULES =
      "RULE:^CN=([^,]+),OU=" + CertificateAuthority.USERS_OU + "$/$1/,DEFAULT";

  /** The port name of the single unnamed listener (what existing Services target). */
  static final String DEFAULT_PORT_NAME = "kafka";

  /** One listener. */
  public record Listener(
      String name, int port, Optional<String> tlsSecret, Optional<Type> authentication) {

    /** The Kafka listener name. */
    public String kafkaName() {
      return name.toUpperCase(Locale.ROOT);
    }

    /** PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
    public String protocol() {
      boolean tls = tlsSecret.isPresent();
      return sasl() ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT") : (tls ? "SSL" : "PLAINTEXT");
    }

    /** Whether clients log in with SASL (SCRAM or PLAIN). */
    public boolean sasl() {
      return authentication.isPresent() && authentication.get() != Type.TLS;
    }

    /** The SASL mechanism offered, when {@link #sasl()}. */
    public String mechanism() {
      return authentication.orElseThrow() == Type.PLAIN ? "PLAIN" : "SCRAM-SHA-512";
    }

    /** Whether clients must present certificates. */
    public boolean clientCertificates() {
      return authentication.filter(a -> a == Type.TLS).isPresent();
    }

    /** The directory its TLS Secret is mounted at. */
    public String tlsDir() {
      return TLS_DIR + "/" + name;
    }
  }

  public static ClusterListeners of(DisklessKafkaCluster cluster) {
    var spec = cluster.getSpec().listeners;
    if (spec.kafka == null || spec.kafka.isEmpty()) {
      Listener only =
          new Listener(DEFAULT_PORT_NAME, spec.kafkaPort, Optional.empty(), Optional.empty());
      return new ClusterListeners(false, List.of(only), DEFAULT_PORT_NAME);
    }
    List<Listener> all = new ArrayList<>();
    for (KafkaListenerSpec l : spec.kafka) {
      all.add(
          new Listener(
              l.name,
              l.port,
              Optional.ofNullable(l.tls).map(t -> t.secretName),
              Optional.ofNullable(l.authentication).map(a -> a.type)));
    }
    return new ClusterListeners(
        true, List.copyOf(all), spec.interBroker != null ? spec.interBroker : all.get(0).name());
  }

  /** The first listener: the one the status's bootstrap address names. */
  public Listener first() {
    return all.get(0);
  }

  /** Whether some listener asks clients for certificates: then the brokers trust the clients CA. */
  public boolean clientCertificates() {
    return all.stream().anyMatch(Listener::clientCertificates);
  }

  /** Whether some listener authenticates with SASL: then the brokers need the operator's user. */
  public boolean sasl() {
    return all.stream().anyMatch(Listener::sasl);
  }

  /** The name of a listener's container and Service port. */
  public String portName(Listener l) {
    return l.name();
  }
}
