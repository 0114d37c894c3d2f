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

/** The broker Deployment. */
public class BrokersSpec {

  @Min(1)
  @Max(1000)
  @Default("3")
  @SpecReplicas
  @JsonPropertyDescription(
      "Number of brokers (the /scale subresource sets it). Partitions move by ownership, so any"
          + " count works. With autoscaling enabled, only the starting count.")
  public int replicas = 3;

  @JsonPropertyDescription("Broker container image; defaults to the image matching the operator.")
  public String image;

  @JsonPropertyDescription("CPU and memory requests and limits of each broker container.")
  public ResourceRequirements resources;

  @JsonPropertyDescription("Extra JVM options for the brokers, e.g. -Xmx2g.")
  public List<String> jvmOptions = new ArrayList<>();

  @JsonPropertyDescription("Overrides of the broker pod: annotations, labels, scheduling.")
  public PodTemplateSpec template = new PodTemplateSpec();

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
