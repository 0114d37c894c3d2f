package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.group.GroupCoordination;
import dev.diskless.broker.txn.TransactionTopic;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerEndpoint;
import dev.diskless.storage.metadata.BrokerInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Names the broker that owns the partition a key hashes to: of the offsets topic for a group, of
 * {@code __transaction_state} for a transactional id. Share coordinators do not exist here yet:
 * those keys get INVALID_REQUEST with a message saying so.
 */
final class FindCoordinatorHandler {

  private final BrokerContext broker;

  FindCoordinatorHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<FindCoordinatorResponse> handle(
      RequestContext context, FindCoordinatorRequest request) {
    byte keyType = request.data().keyType();
    if (request.version() < 4) {
      Coordinator c = find(context, keyType, request.data().key());
      return CompletableFuture.completedFuture(
          new FindCoordinatorResponse(
              new FindCoordinatorResponseData()
                  .setErrorCode(c.errorCode())
                  .setErrorMessage(c.errorMessage())
                  .setNodeId(c.nodeId())
                  .setHost(c.host())
                  .setPort(c.port())));
    }
    List<Coordinator> out = new ArrayList<>();
    for (String key : request.data().coordinatorKeys()) {
      out.add(find(context, keyType, key));
    }
    return CompletableFuture.completedFuture(
        new FindCoordinatorResponse(new FindCoordinatorResponseData().setCoordinators(out)));
  }

  private Coordinator find(RequestContext context, byte keyType, String key) {
    TopicPartitionId partition;
    Access access = broker.access();
    if (keyType == CoordinatorType.GROUP.id()
        && !access.allowed(context, AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
      return error(key, Errors.GROUP_AUTHORIZATION_FAILED, null);
    }
    if (keyType == CoordinatorType.TRANSACTION.id()
        && key != null
        && !key.isEmpty()
        && !access.allowed(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) {
      return error(key, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, null);
    }
    if (keyType == CoordinatorType.GROUP.id()) {
      GroupCoordination groups = broker.groups();
      partition = groups.topic().partition(groups.coordinator().partitionFor(key));
    } else if (keyType == CoordinatorType.TRANSACTION.id()) {
      if (key == null || key.isEmpty()) {
        return error(key, Errors.INVALID_REQUEST, "a transactional id must not be empty");
      }
      TransactionTopic txns = broker.transactions().coordinator().topic();
      partition = txns.partition(txns.partitionFor(key));
    } else {
      return error(
          key, Errors.INVALID_REQUEST, "share groups are not supported by this cluster yet");
    }
    ClusterView.Snapshot snapshot = broker.view().current();
    OptionalInt node = snapshot.liveOwner(partition);
    Optional<BrokerInfo> b = node.isPresent() ? snapshot.broker(node.getAsInt()) : Optional.empty();
    // An owner still starting has no group coordinator running yet; one without the client's
    // listener cannot be reached by it (Kafka answers the same).
    Optional<BrokerEndpoint> endpoint =
        b.filter(BrokerInfo::serving).flatMap(i -> i.endpoint(context.listenerName.value()));
    if (endpoint.isPresent()) {
      return new Coordinator()
          .setKey(key)
          .setNodeId(node.getAsInt())
          .setHost(endpoint.get().host())
          .setPort(endpoint.get().port())
          .setErrorCode(Errors.NONE.code());
    }
    return error(key, Errors.COORDINATOR_NOT_AVAILABLE, null);
  }

  private static Coordinator error(String key, Errors error, String message) {
    Node none = Node.noNode();
    return new Coordinator()
        .setKey(key)
        .setNodeId(none.id())
        .setHost(none.host())
        .setPort(none.port())
        .setErrorCode(error.code())
        .setErrorMessage(message != null ? message : error.message());
  }
}
