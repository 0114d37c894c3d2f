package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What may be changed on the broker pods: metadata, scheduling, image pull Secrets and security
 * contexts. The security contexts default to what the restricted Pod Security profile requires, so
 * the brokers run in a namespace that enforces it; a field set here wins over its default.
 */
public class PodTemplateSpec {

  @JsonPropertyDescription("Annotations added to every broker pod.")
  public Map<String, String> annotations = new TreeMap<>();

  @JsonPropertyDescription("Labels added to every broker pod (the operator's own labels win).")
  public Map<String, String> labels = new TreeMap<>();

  @JsonPropertyDescription("Node selector of the broker pods.")
  public Map<String, String> nodeSelector = new TreeMap<>();

  @JsonPropertyDescription("Affinity of the broker pods.")
  public Affinity affinity;

  @JsonPropertyDescription("Tolerations of the broker pods.")
  public List<Toleration> tolerations = new ArrayList<>();

  @JsonPropertyDescription(
      "Topology spread of the broker pods; by default they spread over zones and nodes.")
  public List<TopologySpreadConstraint> topologySpreadConstraints = new ArrayList<>();

  @JsonPropertyDescription("Priority class of the broker pods.")
  public String priorityClassName;

  @JsonPropertyDescription(
      "Secrets holding the credentials to pull the broker image from a private registry.")
  public List<LocalObjectReference> imagePullSecrets = new ArrayList<>();

  @JsonPropertyDescription(
      "Security context of the broker pods. Each field left unset takes the restricted Pod"
          + " Security profile's value: runAsNonRoot true, seccompProfile RuntimeDefault.")
  public PodSecurityContext securityContext;

  @JsonPropertyDescription(
      "Security context of the broker container. Each field left unset takes the restricted Pod"
          + " Security profile's value: allowPrivilegeEscalation false, capabilities drop ALL.")
  public SecurityContext containerSecurityContext;
}
