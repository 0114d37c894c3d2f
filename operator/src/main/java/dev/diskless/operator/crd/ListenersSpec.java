package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * Ports of the brokers: one plaintext Kafka listener on {@code kafkaPort}, or the named listeners
 * of {@code kafka}, each with its own TLS and authentication, plus the metrics port.
 */
@ValidationRule(
    value = "self.kafkaPort != self.httpPort",
    message = "listeners.kafkaPort and listeners.httpPort must differ")
@ValidationRule(
    value = "!has(self.kafka) || self.kafka.all(l, self.kafka.exists_one(m, m.name == l.name))",
    message = "listeners.kafka: each listener needs a name of its own")
@ValidationRule(
    value = "!has(self.kafka) || self.kafka.all(l, self.kafka.exists_one(m, m.port == l.port))",
    message = "listeners.kafka: each listener needs a port of its own")
@ValidationRule(
    value = "!has(self.kafka) || self.kafka.all(l, l.port != self.httpPort)",
    message = "listeners.kafka: a listener cannot use httpPort")
@ValidationRule(
    value =
        "!has(self.interBroker) || (has(self.kafka)"
            + " && self.kafka.exists(l, l.name == self.interBroker))",
    message = "listeners.interBroker must name one of listeners.kafka")
// Brokers reach each other by pod IP, which no certificate a Secret holds names: the TLS
// handshake between them would fail on the host name.
@ValidationRule(
    value =
        "!has(self.kafka) || self.kafka.all(l, !has(l.tls) || l.name != (has(self.interBroker)"
            + " ? self.interBroker : self.kafka[0].name))",
    message =
        "the inter-broker listener (listeners.interBroker, else the first of listeners.kafka)"
            + " cannot use tls: brokers reach each other by pod IP, which certificates do not"
            + " name; use an internal listener with scram-sha-512")
public class ListenersSpec {

  /** Most named listeners: a handful in practice; the bound keeps the CEL rules cheap. */
  public static final int MAX_LISTENERS = 8;

  @Min(1024)
  @Max(65535)
  @Default("9092")
  @JsonPropertyDescription(
      "Port of the one plaintext Kafka listener on each broker and the Service, when kafka lists"
          + " no named listeners.")
  public int kafkaPort = 9092;

  @Min(1024)
  @Max(65535)
  @Default("8080")
  @JsonPropertyDescription("Port of /metrics, /healthz and /readyz on each broker.")
  public int httpPort = 8080;

  @Size(min = 1, max = MAX_LISTENERS)
  @JsonPropertyDescription(
      "Named Kafka listeners (e.g. an internal plaintext one and a SASL_SSL one for clients);"
          + " replaces kafkaPort. Every listener advertises the pod's IP and its port.")
  public List<KafkaListenerSpec> kafka;

  @Size(max = 15)
  @JsonPropertyDescription(
      "The listener brokers use between them (transaction markers); the first of kafka when"
          + " unset. On a listener with scram-sha-512 or plain authentication they log in as the"
          + " operator's user.")
  public String interBroker;
}
