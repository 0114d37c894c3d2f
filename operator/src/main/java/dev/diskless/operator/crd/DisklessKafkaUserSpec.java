package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** Who the user is in Kafka and what it may do there. */
public class DisklessKafkaUserSpec {

  @Required
  @Size(max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription("The DisklessKafkaCluster the user belongs to, in the same namespace.")
  public String cluster;

  @JsonPropertyDescription(
      "How the user logs in: scram-sha-512 (the operator generates the password into a Secret"
          + " named after the user) or tls (the operator issues a client certificate CN=<user>"
          + " signed by the cluster's clients CA into that Secret and renews it). Absent: no"
          + " credentials, e.g. a user whose certificate comes from elsewhere.")
  public Authentication authentication;

  @JsonPropertyDescription("The user's ACLs; absent or empty: none (kept in step with the spec).")
  public Authorization authorization;

  /** How the user logs in. */
  public static class Authentication {

    /** What the user proves itself with. */
    public enum Type {
      @JsonProperty("scram-sha-512")
      SCRAM_SHA_512,
      @JsonProperty("tls")
      TLS
    }

    @Required
    @JsonPropertyDescription(
        "scram-sha-512 (SASL SCRAM, a generated password) or tls (a client certificate issued"
            + " by the cluster's clients CA, for listeners with authentication type tls).")
    public Type type;
  }

  /** The user's ACLs. */
  public static class Authorization {
    @Size(max = 64)
    @JsonPropertyDescription("ACL rules for the user's principal.")
    public List<AclRule> acls = new ArrayList<>();
  }

  /** One ACL rule: operations on a resource, allowed or denied, from a host. */
  public static class AclRule {

    /** Kafka's ACL operations. */
    public enum Operation {
      All,
      Read,
      Write,
      Create,
      Delete,
      Alter,
      Describe,
      ClusterAction,
      DescribeConfigs,
      AlterConfigs,
      IdempotentWrite
    }

    /** Allow or deny. */
    public enum Permission {
      @JsonProperty("allow")
      ALLOW,
      @JsonProperty("deny")
      DENY
    }

    @Required
    @JsonPropertyDescription("The resource the rule is about.")
    public AclResource resource;

    @Required
    @Size(min = 1, max = 11)
    @JsonPropertyDescription("Kafka operations, e.g. Read, Write, Describe, All.")
    public List<Operation> operations = new ArrayList<>();

    @Default("\"*\"")
    @Size(max = 253)
    @JsonPropertyDescription("The client host the rule applies to; * for any.")
    public String host = "*";

    @Default("allow")
    @JsonPropertyDescription("allow or deny (deny wins over allow, as in Kafka).")
    public Permission type = Permission.ALLOW;
  }

  /** A resource (pattern) of an ACL. */
  @ValidationRule(
      value = "self.type == 'cluster' || has(self.name)",
      message = "acls: resource.name is required unless the type is cluster")
  public static class AclResource {

    /** Kafka's resource types an ACL may name. */
    public enum Kind {
      @JsonProperty("topic")
      TOPIC,
      @JsonProperty("group")
      GROUP,
      @JsonProperty("cluster")
      CLUSTER,
      @JsonProperty("transactionalId")
      TRANSACTIONAL_ID
    }

    /** How the name matches. */
    public enum PatternKind {
      @JsonProperty("literal")
      LITERAL,
      @JsonProperty("prefix")
      PREFIX
    }

    @Required
    @JsonPropertyDescription("topic, group, cluster or transactionalId.")
    public Kind type;

    @Size(max = 249)
    @JsonPropertyDescription("The resource's name, or * for every one (not for cluster).")
    public String name;

    @Default("literal")
    @JsonPropertyDescription("literal (the name exactly, or *) or prefix (names starting with it).")
    public PatternKind patternType = PatternKind.LITERAL;
  }
}
