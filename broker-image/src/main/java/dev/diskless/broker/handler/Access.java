package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.Resource;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.server.authorizer.Action;
import org.apache.kafka.server.authorizer.AuthorizationResult;
import org.apache.kafka.server.authorizer.Authorizer;

/**
 * What a request's principal may do, asked of the broker's authorizer the way Kafka's request
 * handlers ask it (one action per distinct resource, with its reference count; denials logged
 * unless a check is only a shortcut). Without an authorizer everything is allowed.
 */
public final class Access {

  /** No authorizer: every check passes. */
  public static final Access ALLOW_ALL = new Access(Optional.empty());

  private static final Map<ResourceType, Set<AclOperation>> SUPPORTED =
      Map.of(
          ResourceType.TOPIC,
          EnumSet.of(
              AclOperation.READ,
              AclOperation.WRITE,
              AclOperation.CREATE,
              AclOperation.DESCRIBE,
              AclOperation.DELETE,
              AclOperation.ALTER,
              AclOperation.DESCRIBE_CONFIGS,
              AclOperation.ALTER_CONFIGS),
          ResourceType.GROUP,
          EnumSet.of(
              AclOperation.READ,
              AclOperation.DESCRIBE,
              AclOperation.DELETE,
              AclOperation.DESCRIBE_CONFIGS,
              AclOperation.ALTER_CONFIGS),
          ResourceType.CLUSTER,
          EnumSet.of(
              AclOperation.CREATE,
              AclOperation.CLUSTER_ACTION,
              AclOperation.DESCRIBE_CONFIGS,
              AclOperation.ALTER_CONFIGS,
              AclOperation.IDEMPOTENT_WRITE,
              AclOperation.ALTER,
              AclOperation.DESCRIBE),
          ResourceType.TRANSACTIONAL_ID,
          EnumSet.of(AclOperation.DESCRIBE, AclOperation.WRITE));

  private final Optional<Authorizer> authorizer;

  public Access(Optional<Authorizer> authorizer) {
    this.authorizer = authorizer;
  }

  /** Whether requests are checked at all. */
  public boolean enabled() {
    return authorizer.isPresent();
  }

  /** Whether {@code op} on the literal resource is allowed; a denial is logged. */
  public boolean allowed(RequestContext ctx, AclOperation op, ResourceType type, String name) {
    return allowed(ctx, op, type, name, true);
  }

  /** The same, logging a denial only if {@code logIfDenied} (a check that has a fallback). */
  public boolean allowed(
      RequestContext ctx, AclOperation op, ResourceType type, String name, boolean logIfDenied) {
    if (authorizer.isEmpty()) {
      return true;
    }
    Action action =
        new Action(op, new ResourcePattern(type, name, PatternType.LITERAL), 1, true, logIfDenied);
    return authorizer.get().authorize(ctx, List.of(action)).get(0) == AuthorizationResult.ALLOWED;
  }

  /** Whether {@code op} on the cluster is allowed. */
  public boolean cluster(RequestContext ctx, AclOperation op) {
    return allowed(ctx, op, ResourceType.CLUSTER, Resource.CLUSTER_NAME, true);
  }

  /** The same, logging a denial only if {@code logIfDenied}. */
  public boolean cluster(RequestContext ctx, AclOperation op, boolean logIfDenied) {
    return allowed(ctx, op, ResourceType.CLUSTER, Resource.CLUSTER_NAME, logIfDenied);
  }

  /** Throws Kafka's cluster authorization error unless {@code op} on the cluster is allowed. */
  public void requireCluster(RequestContext ctx, AclOperation op) {
    if (!cluster(ctx, op)) {
      throw new ClusterAuthorizationException(
          "Request " + ctx.header.apiKey() + " needs " + op + " on the cluster");
    }
  }

  /**
   * A test for the names of {@code names} that {@code op} is allowed on; without an authorizer it
   * passes every name without looking at them (Produce and Fetch ask on every request).
   */
  public Predicate<String> allowedFilter(
      RequestContext ctx, AclOperation op, ResourceType type, Supplier<List<String>> names) {
    if (authorizer.isEmpty()) {
      return name -> true;
    }
    return allowedNames(ctx, op, type, names.get())::contains;
  }

  /** Of {@code names}, those {@code op} is allowed on (one action per distinct name). */
  public Set<String> allowedNames(
      RequestContext ctx, AclOperation op, ResourceType type, Collection<String> names) {
    return allowedNames(ctx, op, type, names, true);
  }

  /** The same, logging denials only if {@code logIfDenied}. */
  public Set<String> allowedNames(
      RequestContext ctx,
      AclOperation op,
      ResourceType type,
      Collection<String> names,
      boolean logIfDenied) {
    if (authorizer.isEmpty()) {
      return new HashSet<>(names);
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String n : names) {
      if (n != null) {
        counts.merge(n, 1, Integer::sum);
      }
    }
    if (counts.isEmpty()) {
      return new HashSet<>();
    }
    List<Action> actions = new ArrayList<>(counts.size());
    counts.forEach(
        (n, c) ->
            actions.add(
                new Action(
                    op, new ResourcePattern(type, n, PatternType.LITERAL), c, true, logIfDenied)));
    List<AuthorizationResult> results = authorizer.get().authorize(ctx, actions);
    Set<String> allowed = new HashSet<>();
    for (int i = 0; i < actions.size(); i++) {
      if (results.get(i) == AuthorizationResult.ALLOWED) {
        allowed.add(actions.get(i).resourcePattern().name());
      }
    }
    return allowed;
  }

  /** Whether {@code op} is allowed on some resource of {@code type} (any name or prefix). */
  public boolean allowedOnAny(RequestContext ctx, AclOperation op, ResourceType type) {
    return authorizer.isEmpty()
        || authorizer.get().authorizeByResourceType(ctx, op, type) == AuthorizationResult.ALLOWED;
  }

  /**
   * Whether {@code op} (DESCRIBE_CONFIGS or ALTER_CONFIGS) is allowed on a config resource, as
   * Kafka maps its types: brokers and their loggers are the cluster's. Returns the error a refused
   * resource gets, or NONE.
   */
  public Errors configs(
      RequestContext ctx, AclOperation op, ConfigResource.Type type, String name) {
    return switch (type) {
      case BROKER, BROKER_LOGGER, CLIENT_METRICS ->
          cluster(ctx, op) ? Errors.NONE : Errors.CLUSTER_AUTHORIZATION_FAILED;
      case TOPIC ->
          allowed(ctx, op, ResourceType.TOPIC, name)
              ? Errors.NONE
              : Errors.TOPIC_AUTHORIZATION_FAILED;
      case GROUP ->
          allowed(ctx, op, ResourceType.GROUP, name)
              ? Errors.NONE
              : Errors.GROUP_AUTHORIZATION_FAILED;
      default -> Errors.NONE;
    };
  }

  /**
   * Kafka's authorized-operations bit field for a resource: the operations of its type that are
   * allowed (all of them without an authorizer).
   */
  public int authorizedOperations(RequestContext ctx, ResourceType type, String name) {
    Set<AclOperation> supported = SUPPORTED.getOrDefault(type, Set.of());
    Set<Byte> codes = new HashSet<>();
    if (authorizer.isEmpty()) {
      supported.forEach(op -> codes.add(op.code()));
    } else {
      List<AclOperation> ops = new ArrayList<>(supported);
      List<Action> actions = new ArrayList<>();
      for (AclOperation op : ops) {
        actions.add(
            new Action(op, new ResourcePattern(type, name, PatternType.LITERAL), 1, false, false));
      }
      List<AuthorizationResult> results = authorizer.get().authorize(ctx, actions);
      for (int i = 0; i < ops.size(); i++) {
        if (results.get(i) == AuthorizationResult.ALLOWED) {
          codes.add(ops.get(i).code());
        }
      }
    }
    return Utils.to32BitField(codes);
  }
}
