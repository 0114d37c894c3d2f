package dev.diskless.broker.handler;

import dev.diskless.broker.security.AclAuthorizer;
import dev.diskless.storage.metadata.AclStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.SecurityDisabledException;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreateAclsResponseData.AclCreationResult;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.CreateAclsRequest;
import org.apache.kafka.common.requests.CreateAclsResponse;
import org.apache.kafka.common.requests.DeleteAclsRequest;
import org.apache.kafka.common.requests.DeleteAclsResponse;
import org.apache.kafka.common.requests.DescribeAclsRequest;
import org.apache.kafka.common.requests.DescribeAclsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.Resource;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.SecurityUtils;
import org.apache.kafka.metadata.authorizer.StandardAcl;
import org.apache.kafka.server.authorizer.AclDeleteResult;
import org.apache.kafka.server.authorizer.AclDeleteResult.AclBindingDeleteResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CreateAcls, DescribeAcls and DeleteAcls, as Kafka answers them: bindings are validated with
 * Kafka's rules and messages, stored in PostgreSQL (a binding stored once however often it is
 * created; deletions matched and removed in one transaction), and installed in this broker's
 * authorizer before the response, so the client's next request already sees them. Other brokers
 * load them when notified. Without an authorizer every request gets SECURITY_DISABLED.
 */
final class AclsHandler {

  private static final Logger LOG = LoggerFactory.getLogger(AclsHandler.class);

  private final Optional<AclAuthorizer> authorizer;
  private final AclStore store;

  AclsHandler(BrokerContext broker) {
    this.authorizer = broker.acls();
    this.store = broker.aclStore();
  }

  CompletableFuture<AbstractResponse> describe(RequestContext ctx, DescribeAclsRequest request) {
    if (authorizer.isEmpty()) {
      return disabled(request);
    }
    var bindings = authorizer.get().plugin().get().acls(request.filter());
    return CompletableFuture.completedFuture(
        new DescribeAclsResponse(
            new DescribeAclsResponseData()
                .setResources(DescribeAclsResponse.aclsResources(bindings)),
            request.version()));
  }

  CompletableFuture<AbstractResponse> create(RequestContext ctx, CreateAclsRequest request) {
    if (authorizer.isEmpty()) {
      return disabled(request);
    }
    List<AclCreationResult> results = new ArrayList<>();
    List<AclStore.Acl> valid = new ArrayList<>();
    for (var creation : request.aclCreations()) {
      AclBinding binding = CreateAclsRequest.aclBinding(creation);
      AclCreationResult result = new AclCreationResult();
      try {
        validateNew(binding);
        StandardAcl acl = StandardAcl.fromAclBinding(binding);
        valid.add(
            new AclStore.Acl(
                UUID.randomUUID(),
                acl.resourceType().code(),
                acl.resourceName(),
                acl.patternType().code(),
                acl.principal(),
                acl.host(),
                acl.operation().code(),
                acl.permissionType().code()));
      } catch (InvalidRequestException e) {
        ApiError error = ApiError.fromThrowable(e);
        result.setErrorCode(error.error().code()).setErrorMessage(error.message());
      }
      results.add(result);
    }
    CompletableFuture<Void> stored =
        valid.isEmpty()
            ? CompletableFuture.completedFuture(null)
            : store.create(valid).thenCompose(v -> installed());
    return stored
        .<AbstractResponse>thenApply(
            v -> {
              LOG.info("{} created {} ACLs: {}", ctx.principal(), valid.size(), valid);
              return new CreateAclsResponse(new CreateAclsResponseData().setResults(results));
            })
        .exceptionally(
            t -> {
              // Nothing, or all of it, was stored: the same error for every valid binding.
              ApiError error = ApiError.fromThrowable(t);
              results.stream()
                  .filter(r -> r.errorCode() == 0)
                  .forEach(
                      r -> r.setErrorCode(error.error().code()).setErrorMessage(error.message()));
              return new CreateAclsResponse(new CreateAclsResponseData().setResults(results));
            });
  }

  CompletableFuture<AbstractResponse> delete(RequestContext ctx, DeleteAclsRequest request) {
    if (authorizer.isEmpty()) {
      return disabled(request);
    }
    List<AclBindingFilter> filters = request.filters();
    AclDeleteResult[] results = new AclDeleteResult[filters.size()];
    List<Integer> validIndexes = new ArrayList<>();
    List<Predicate<AclStore.Acl>> predicates = new ArrayList<>();
    for (int i = 0; i < filters.size(); i++) {
      AclBindingFilter f = filters.get(i);
      if (f.patternFilter().isUnknown()) {
        results[i] = new AclDeleteResult(new InvalidRequestException("Unknown patternFilter."));
      } else if (f.entryFilter().isUnknown()) {
        results[i] = new AclDeleteResult(new InvalidRequestException("Unknown entryFilter."));
      } else {
        validIndexes.add(i);
        predicates.add(a -> f.matches(AclAuthorizer.toStandard(a).toBinding()));
      }
    }
    CompletableFuture<Void> deleted =
        predicates.isEmpty()
            ? CompletableFuture.completedFuture(null)
            : store
                .delete(predicates)
                .thenCompose(
                    matched -> {
                      for (int j = 0; j < matched.size(); j++) {
                        List<AclBindingDeleteResult> bindings = new ArrayList<>();
                        for (AclStore.Acl a : matched.get(j)) {
                          bindings.add(
                              new AclBindingDeleteResult(AclAuthorizer.toStandard(a).toBinding()));
                        }
                        results[validIndexes.get(j)] = new AclDeleteResult(bindings);
                      }
                      LOG.info("{} deleted ACLs matching {}", ctx.principal(), filters);
                      return installed();
                    });
    return deleted
        .<AbstractResponse>thenApply(v -> response(results, request.version()))
        .exceptionally(
            t -> {
              ApiError error = ApiError.fromThrowable(t);
              for (int i : validIndexes) {
                if (results[i] == null) {
                  results[i] = new AclDeleteResult(error.exception());
                }
              }
              return response(results, request.version());
            });
  }

  /**
   * This broker's authorizer reloaded after a change was stored. A failed reload (logged by the
   * authorizer) does not fail the request, whose change is stored: the next notice loads it.
   */
  private CompletableFuture<Void> installed() {
    return authorizer.get().reload().exceptionally(t -> null);
  }

  private static DeleteAclsResponse response(AclDeleteResult[] results, short version) {
    List<DeleteAclsResponseData.DeleteAclsFilterResult> out = new ArrayList<>();
    for (AclDeleteResult r : results) {
      out.add(DeleteAclsResponse.filterResult(r));
    }
    return new DeleteAclsResponse(new DeleteAclsResponseData().setFilterResults(out), version);
  }

  /** Kafka's checks of a new binding (AclApis, then the controller's), with its messages. */
  private static void validateNew(AclBinding binding) {
    var pattern = binding.pattern();
    if (pattern.resourceType() == ResourceType.CLUSTER
        && !Resource.CLUSTER_NAME.equals(pattern.name())) {
      throw new InvalidRequestException(
          "The only valid name for the CLUSTER resource is " + Resource.CLUSTER_NAME);
    }
    if (pattern.name() == null || pattern.name().isEmpty()) {
      throw new InvalidRequestException("Invalid empty resource name");
    }
    switch (pattern.resourceType()) {
      case UNKNOWN, ANY ->
          throw new InvalidRequestException("Invalid resourceType " + pattern.resourceType());
      default -> {}
    }
    switch (pattern.patternType()) {
      case LITERAL, PREFIXED -> {}
      default -> throw new InvalidRequestException("Invalid patternType " + pattern.patternType());
    }
    switch (binding.entry().operation()) {
      case UNKNOWN, ANY ->
          throw new InvalidRequestException("Invalid operation " + binding.entry().operation());
      default -> {}
    }
    switch (binding.entry().permissionType()) {
      case DENY, ALLOW -> {}
      default ->
          throw new InvalidRequestException(
              "Invalid permissionType " + binding.entry().permissionType());
    }
    // Stricter than Kafka, which stores any string: a principal no request can carry would never
    // match, and an operator who typed one should hear so.
    try {
      SecurityUtils.parseKafkaPrincipal(binding.entry().principal());
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException(
          "Invalid principal " + binding.entry().principal() + ": expected a form like User:alice");
    }
  }

  private static CompletableFuture<AbstractResponse> disabled(
      org.apache.kafka.common.requests.AbstractRequest request) {
    return CompletableFuture.completedFuture(
        request.getErrorResponse(
            new SecurityDisabledException("No Authorizer is configured on the broker")));
  }
}
