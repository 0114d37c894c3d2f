package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;
import java.util.TreeMap;

/** The topic as it should be. */
@ValidationRule(
    value =
        "(has(self.topicName) ? self.topicName : '') =="
            + " (has(oldSelf.topicName) ? oldSelf.topicName : '')",
    message = "topicName cannot change: it names the topic")
public class DisklessKafkaTopicSpec {

  /** What happens to the topic when the resource is deleted. */
  public enum DeletionPolicy {
    @JsonProperty("Retain")
    RETAIN,
    @JsonProperty("Delete")
    DELETE
  }

  @Required
  @Size(max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription("The DisklessKafkaCluster the topic belongs to, in the same namespace.")
  public String cluster;

  @Size(max = 249)
  @Pattern("^[a-zA-Z0-9._-]+$")
  @JsonPropertyDescription(
      "The topic's name when it differs from the resource's (Kafka allows characters and lengths"
          + " Kubernetes names do not); it cannot change.")
  public String topicName;

  @Min(1)
  @Max(10000)
  @Default("1")
  @JsonPropertyDescription(
      "Partitions; may grow, never shrink (Kafka cannot remove partitions: a decrease is refused"
          + " with a condition).")
  public int partitions = 1;

  @Size(max = 64)
  @JsonPropertyDescription(
      "Topic configs (retention.ms, cleanup.policy, ...), validated by the brokers; configs set on"
          + " the topic but not listed here are removed, so the spec owns them.")
  public Map<String, String> configs = new TreeMap<>();

  @Default("Retain")
  @JsonPropertyDescription(
      "Retain (default) keeps the topic and its data when the resource is deleted; Delete deletes"
          + " the topic.")
  public DeletionPolicy deletionPolicy = DeletionPolicy.RETAIN;
}
