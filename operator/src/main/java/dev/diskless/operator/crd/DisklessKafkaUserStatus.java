package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator last did with the user in its cluster. */
public class DisklessKafkaUserStatus {

  @JsonPropertyDescription("The spec generation this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("Ready: the credentials and ACLs are in the cluster as the spec says.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("The Kafka user name (principal User:<username>).")
  public String username;

  @JsonPropertyDescription(
      "The Secret with the user's credentials: the password and a ready sasl.jaas.config"
          + " (scram-sha-512), or user.crt, user.key and ca.crt (tls).")
  public String secret;

  @JsonPropertyDescription(
      "When the user's certificate expires (tls); the operator issues a new one 30 days before.")
  public String certificateNotAfter;
}
