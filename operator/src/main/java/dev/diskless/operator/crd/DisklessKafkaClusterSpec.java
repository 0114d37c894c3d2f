package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** What the cluster should be. The operator reads it and never writes it. */
// Utilization is measured against the request: without one there is nothing to aim at.
@ValidationRule(
    value =
        "!has(self.autoscaling) || !self.autoscaling.enabled || (has(self.brokers)"
            + " && has(self.brokers.resources) && has(self.brokers.resources.requests)"
            + " && 'cpu' in self.brokers.resources.requests)",
    message =
        "brokers.resources.requests.cpu is required when autoscaling.enabled is true: CPU"
            + " utilization is measured against it")
// Every zone keeps a broker whatever the autoscaler decides.
@ValidationRule(
    value =
        "!has(self.brokers) || !has(self.brokers.zones) || !has(self.autoscaling)"
            + " || !has(self.autoscaling.minBrokers)"
            + " || self.autoscaling.minBrokers >= size(self.brokers.zones)",
    message =
        "autoscaling.minBrokers must be at least the number of brokers.zones (one broker per"
            + " zone)")
// Brokers send each other cluster actions; under ACLs they must be someone: the operator's user.
@ValidationRule(
    value =
        "!has(self.authorization) || (has(self.listeners) && has(self.listeners.kafka)"
            + " && self.listeners.kafka.exists(l, (has(self.listeners.interBroker)"
            + " ? l.name == self.listeners.interBroker : l.name == self.listeners.kafka[0].name)"
            + " && has(l.authentication) && l.authentication.type != 'tls'))",
    message =
        "authorization needs an inter-broker listener (listeners.interBroker, else the first of"
            + " listeners.kafka) with scram-sha-512 or plain authentication: brokers act on each"
            + " other as the operator's user")
public class DisklessKafkaClusterSpec {

  @JsonPropertyDescription("The brokers: how many, their image, resources and pod settings.")
  @Default("{}")
  public BrokersSpec brokers = new BrokersSpec();

  @Required
  @JsonPropertyDescription("The S3-compatible bucket that holds the write-ahead log and all data.")
  public ObjectStoreSpec objectStore;

  @JsonPropertyDescription("Where acknowledged writes wait before they reach object storage.")
  @Default("{}")
  public WalSpec wal = new WalSpec();

  @Required
  @JsonPropertyDescription("The PostgreSQL database that holds ownership, offsets and the index.")
  public MetadataSpec metadata;

  @JsonPropertyDescription(
      "The Kafka listeners clients connect to: one plaintext port, or named listeners with TLS and"
          + " authentication.")
  @Default("{}")
  public ListenersSpec listeners = new ListenersSpec();

  @JsonPropertyDescription(
      "ACLs: when set, every request is checked against them (kafka-acls.sh, DisklessKafkaUser).")
  public AuthorizationSpec authorization;

  @JsonPropertyDescription(
      "Operator-driven autoscaling on CPU; off unless enabled. Its broker count is kept in the"
          + " status.")
  @Default("{}")
  public AutoscalingSpec autoscaling = new AutoscalingSpec();
}
