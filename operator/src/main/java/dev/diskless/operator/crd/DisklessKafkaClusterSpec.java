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

  @JsonPropertyDescription("The Kafka listener clients connect to (plaintext).")
  @Default("{}")
  public ListenersSpec listeners = new ListenersSpec();

  @JsonPropertyDescription(
      "Operator-driven autoscaling on CPU; off unless enabled. Its broker count is kept in the"
          + " status.")
  @Default("{}")
  public AutoscalingSpec autoscaling = new AutoscalingSpec();
}
