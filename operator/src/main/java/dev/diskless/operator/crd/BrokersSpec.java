package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The broker Deployment, or one per zone when zones are listed. */
// One broker per zone at least: a zone Deployment with no broker would pin nothing and serve no
// zone-local reads.
@ValidationRule(
    value = "!has(self.zones) || self.replicas >= size(self.zones)",
    message = "brokers.replicas must be at least the number of brokers.zones (one broker per zone)")
public class BrokersSpec {

  /** Most zones listed: a region has a handful; the bound keeps the CEL rules cheap. */
  public static final int MAX_ZONES = 10;

  /** A zone name as it appears in a name: an RFC 1123 label (what Deployment names allow). */
  static final String ZONE_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  @Min(1)
  @Max(1000)
  @Default("3")
  @SpecReplicas
  @JsonPropertyDescription(
      "Number of brokers (the /scale subresource sets it). Partitions move by ownership, so any"
          + " count works. With autoscaling enabled, only the starting count.")
  public int replicas = 3;

  @Size(max = MAX_ZONES)
  @ValidationRule(
      value = "self.all(z, self.filter(y, y == z).size() == 1)",
      message = "brokers.zones must not list a zone twice")
  @ValidationRule(
      value = "self.all(z, z.matches('" + ZONE_PATTERN + "'))",
      message =
          "brokers.zones: each zone must be a DNS label (lowercase letters, digits and '-',"
              + " starting and ending with a letter or digit, at most 63 characters)")
  @JsonPropertyDescription(
      "Zones to run brokers in, as the Nodes' topology.kubernetes.io/zone label names them. Set:"
          + " one Deployment per zone (<cluster>-broker-<zone>), pinned to its zone, the brokers"
          + " split evenly (the first zones take the remainder), each broker's rack = its zone."
          + " Unset: one Deployment; a broker's rack is its pod's topology.kubernetes.io/zone label"
          + " when the API server sets it (Kubernetes 1.35+), else none.")
  public List<@Size(min = 1, max = 63) String> zones;

  @JsonPropertyDescription("Broker container image; defaults to the image matching the operator.")
  public String image;

  @JsonPropertyDescription("CPU and memory requests and limits of each broker container.")
  public ResourceRequirements resources;

  @JsonPropertyDescription("Extra JVM options for the brokers, e.g. -Xmx2g.")
  public List<String> jvmOptions = new ArrayList<>();

  @JsonPropertyDescription(
      "Overrides of the broker pod: annotations, labels, scheduling, image pull Secrets,"
          + " security contexts.")
  public PodTemplateSpec template = new PodTemplateSpec();

  @JsonPropertyDescription(
      "Overrides of the brokers' ServiceAccount: annotations, e.g. for workload identity.")
  public ServiceAccountSpec serviceAccount = new ServiceAccountSpec();

  // Bounded so that the API server can afford the CEL rule's cost.
  @Size(max = 64)
  @ValidationRule(
      value = BrokerConfigOverrides.CEL_RULE,
      message = BrokerConfigOverrides.CEL_MESSAGE)
  @JsonPropertyDescription(
      "Broker settings to override, by name; only the keys listed in the validation message are"
          + " accepted.")
  public Map<String, String> config = new TreeMap<>();
}
