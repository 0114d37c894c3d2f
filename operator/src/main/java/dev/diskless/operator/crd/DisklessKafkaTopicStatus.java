package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator last did with the topic in its cluster. */
public class DisklessKafkaTopicStatus {

  @JsonPropertyDescription("The spec generation this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription(
      "Ready: the topic exists with the spec's partitions and configs; when not, why (e.g."
          + " PartitionDecreaseRefused, InvalidConfig).")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("The topic's name in Kafka.")
  public String topicName;

  @JsonPropertyDescription("The topic's id in Kafka.")
  public String topicId;

  @JsonPropertyDescription("Partitions the topic has.")
  public Integer partitions;
}
