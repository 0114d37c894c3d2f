package dev.diskless.broker.security;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.utils.internals.SecurityUtils;
import org.apache.kafka.metadata.authorizer.StandardAuthorizer;

/**
 * Whether requests are checked against access control lists, and Kafka's two settings for it:
 * principals allowed everything ({@code super.users}) and what a resource without any ACL allows
 * ({@code allow.everyone.if.no.acl.found}). Kafka's StandardAuthorizer is the only authorizer.
 *
 * @param superUsers principals such as {@code User:admin}
 * @param allowEveryoneIfNoAclFound whether a resource no ACL names is open to all
 */
public record AuthorizationConfig(Set<String> superUsers, boolean allowEveryoneIfNoAclFound) {

  /** The class name Kafka's {@code authorizer.class.name} gives for the only authorizer we run. */
  public static final String STANDARD_AUTHORIZER = StandardAuthorizer.class.getName();

  public AuthorizationConfig {
    superUsers = Set.copyOf(superUsers);
    for (String p : superUsers) {
      try {
        SecurityUtils.parseKafkaPrincipal(p);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "super.users: " + p + " is not a principal such as User:alice");
      }
    }
  }

  /** From the broker settings; empty when {@code authorizer.class.name} is empty. */
  public static Optional<AuthorizationConfig> parse(
      String authorizerClassName, String superUsers, boolean allowEveryoneIfNoAclFound) {
    String name = authorizerClassName.trim();
    if (name.isEmpty()) {
      return Optional.empty();
    }
    if (!name.equals(STANDARD_AUTHORIZER)) {
      throw new IllegalArgumentException(
          "authorizer.class.name must be empty or " + STANDARD_AUTHORIZER + ", got " + name);
    }
    Set<String> users = new LinkedHashSet<>();
    Arrays.stream(superUsers.split(";"))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .forEach(users::add);
    return Optional.of(new AuthorizationConfig(users, allowEveryoneIfNoAclFound));
  }

  /** The configuration StandardAuthorizer reads. */
  Map<String, Object> authorizerConfigs() {
    return Map.of(
        StandardAuthorizer.SUPER_USERS_CONFIG,
        String.join(";", superUsers),
        StandardAuthorizer.ALLOW_EVERYONE_IF_NO_ACL_IS_FOUND_CONFIG,
        Boolean.toString(allowEveryoneIfNoAclFound));
  }
}
