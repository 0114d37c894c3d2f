package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitResponse;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/**
 * TxnOffsetCommit: offsets committed inside a transaction, through the group coordinator, which
 * keeps them pending until the transaction's marker reaches its offsets partition (applied on
 * COMMIT, dropped on ABORT). The coordinator checks the offsets partition is in the transaction
 * first (transaction verification).
 */
final class TxnOffsetCommitHandler {

  private final BrokerContext broker;

  TxnOffsetCommitHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<TxnOffsetCommitResponse> handle(
      RequestContext context, TxnOffsetCommitRequest request) {
    // As Kafka: WRITE on the transactional id and READ on the group for the whole request, then
    // READ on each topic.
    Access access = broker.access();
    var data = request.data();
    if (!access.allowed(
        context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.exception()));
    }
    if (!access.allowed(context, AclOperation.READ, ResourceType.GROUP, data.groupId())) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(Errors.GROUP_AUTHORIZATION_FAILED.exception()));
    }
    Set<String> readable =
        access.allowedNames(
            context,
            AclOperation.READ,
            ResourceType.TOPIC,
            data.topics().stream().map(TxnOffsetCommitRequestTopic::name).toList());
    if (readable.containsAll(
        data.topics().stream().map(TxnOffsetCommitRequestTopic::name).toList())) {
      return broker
          .groups()
          .coordinator()
          .commitTransactionalOffsets(context, data, BufferSupplier.NO_CACHING)
          .thenApply(TxnOffsetCommitResponse::new);
    }
    TxnOffsetCommitResponse.Builder response = TxnOffsetCommitResponse.newBuilder(false);
    List<TxnOffsetCommitRequestTopic> allowed = new ArrayList<>();
    for (TxnOffsetCommitRequestTopic t : data.topics()) {
      if (readable.contains(t.name())) {
        allowed.add(t);
      } else {
        response.addPartitions(
            Uuid.ZERO_UUID,
            t.name(),
            t.partitions(),
            TxnOffsetCommitRequestPartition::partitionIndex,
            Errors.TOPIC_AUTHORIZATION_FAILED);
      }
    }
    if (allowed.isEmpty()) {
      return CompletableFuture.completedFuture(response.build());
    }
    return broker
        .groups()
        .coordinator()
        .commitTransactionalOffsets(
            context, data.duplicate().setTopics(allowed), BufferSupplier.NO_CACHING)
        .thenApply(r -> response.merge(r).build());
  }
}
