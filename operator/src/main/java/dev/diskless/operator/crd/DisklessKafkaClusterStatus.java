package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;

/** What the operator last observed. */
public class DisklessKafkaClusterStatus {

  @JsonPropertyDescription("The spec generation this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription(
      "Ready, Reconciling, Degraded, BucketReady, MetadataReady and WalReady, with reasons.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Brokers passing their readiness check.")
  public Integer readyBrokers;

  @StatusReplicas
  @JsonPropertyDescription("Brokers the broker Deployments run, all zones together.")
  public Integer replicas;

  @LabelSelector
  @JsonPropertyDescription(
      "Label selector of the broker pods, for the /scale subresource (HPA, KEDA, kubectl scale).")
  public String selector;

  @JsonPropertyDescription("Address for Kafka clients: the bootstrap Service and port.")
  public String bootstrapServers;

  @JsonPropertyDescription(
      "The autoscaler's inputs and decision, when spec.autoscaling is enabled.")
  public AutoscalingStatus autoscaling;
}
