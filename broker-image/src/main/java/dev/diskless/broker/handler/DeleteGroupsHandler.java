package dev.diskless.broker.handler;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResultCollection;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteGroupsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/** Deletes empty groups and their offsets (non-empty ones answer NON_EMPTY_GROUP). */
final class DeleteGroupsHandler {

  private final BrokerContext broker;

  DeleteGroupsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, DeleteGroupsRequest request) {
    List<String> names = request.data().groupsNames().stream().distinct().toList();
    Set<String> deletable =
        broker.access().allowedNames(context, AclOperation.DELETE, ResourceType.GROUP, names);
    DeletableGroupResultCollection refused = new DeletableGroupResultCollection();
    names.stream()
        .filter(n -> !deletable.contains(n))
        .forEach(
            n ->
                refused.add(
                    new DeletableGroupResult()
                        .setGroupId(n)
                        .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())));
    List<String> allowed = names.stream().filter(deletable::contains).toList();
    CompletableFuture<DeletableGroupResultCollection> deleted =
        allowed.isEmpty()
            ? CompletableFuture.completedFuture(new DeletableGroupResultCollection())
            : broker
                .groups()
                .coordinator()
                .deleteGroups(context, allowed, BufferSupplier.NO_CACHING);
    return deleted.thenApply(
        results -> {
          refused.forEach(r -> results.add(r.duplicate()));
          return new DeleteGroupsResponse(new DeleteGroupsResponseData().setResults(results));
        });
  }
}
