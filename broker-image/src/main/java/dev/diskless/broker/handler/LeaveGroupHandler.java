package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/** Classic-protocol LeaveGroup (single member before v3, batched after), via the coordinator. */
final class LeaveGroupHandler {

  private final BrokerContext broker;

  LeaveGroupHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AbstractResponse> handle(RequestContext context, LeaveGroupRequest request) {
    if (!broker
        .access()
        .allowed(context, AclOperation.READ, ResourceType.GROUP, request.data().groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    return broker
        .groups()
        .coordinator()
        .leaveGroup(context, request.normalizedData())
        .thenApply(r -> new LeaveGroupResponse(r, request.version()));
  }
}
