package dev.diskless.broker.handler;

import java.util.List;
import org.apache.kafka.common.acl.AclOperation;

/**
 * How an API is authorized, declared next to its handler in {@link ApiRegistry}: not at all, by an
 * operation on the cluster that the whole request needs (the dispatcher checks it and answers
 * CLUSTER_AUTHORIZATION_FAILED), or resource by resource inside the handler, with Kafka's per-API
 * rules and partial responses.
 *
 * @param kind which of the three
 * @param clusterOperations for {@code CLUSTER}: the request passes if any one of them is allowed
 * @param description for {@code NONE} and {@code PER_RESOURCE}: what is checked, for readers
 */
public record AuthorizationRule(
    Kind kind, List<AclOperation> clusterOperations, String description) {

  /** The three ways. */
  public enum Kind {
    NONE,
    CLUSTER,
    PER_RESOURCE
  }

  /** Answered for anyone (ApiVersions, the SASL exchange). */
  static AuthorizationRule none(String why) {
    return new AuthorizationRule(Kind.NONE, List.of(), why);
  }

  /** The whole request needs one of {@code ops} on the cluster. */
  static AuthorizationRule cluster(AclOperation... ops) {
    return new AuthorizationRule(Kind.CLUSTER, List.of(ops), "cluster " + List.of(ops));
  }

  /** The handler checks each resource the request names. */
  static AuthorizationRule perResource(String what) {
    return new AuthorizationRule(Kind.PER_RESOURCE, List.of(), what);
  }
}
