package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether requests are checked against ACLs (Kafka's StandardAuthorizer over ACLs kept in the
 * metadata database) and who may do everything regardless.
 */
public class AuthorizationSpec {

  /** The authorizer. */
  public enum Type {
    @JsonProperty("simple")
    SIMPLE
  }

  @Required
  @JsonPropertyDescription(
      "simple: every request is checked against the ACLs that kafka-acls.sh and"
          + " DisklessKafkaUser resources manage; without an ACL nothing is allowed.")
  public Type type;

  @Size(max = 16)
  @ValidationRule(
      value = "self.all(u, u.startsWith('User:') && size(u) > 5 && !u.contains(';'))",
      message = "superUsers entries are principals like User:alice")
  @JsonPropertyDescription(
      "Principals allowed everything, e.g. User:alice (the operator's own user always is).")
  public List<String> superUsers = new ArrayList<>();
}
