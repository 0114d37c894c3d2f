package dev.diskless.broker.handler;

import dev.diskless.broker.group.OffsetsTopic;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * AddOffsetsToTxn: adds the offsets-topic partition of the consumer group to the producer's
 * transaction, so the transaction's markers reach the group coordinator, which then applies or
 * drops the offsets committed with TxnOffsetCommit.
 */
final class AddOffsetsToTxnHandler {

  private final BrokerContext broker;

  AddOffsetsToTxnHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AddOffsetsToTxnResponse> handle(
      RequestContext context, AddOffsetsToTxnRequest request) {
    var data = request.data();
    // As Kafka: WRITE on the transactional id, then READ on the group.
    if (!broker
        .access()
        .allowed(
            context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())) {
      return CompletableFuture.completedFuture(
          new AddOffsetsToTxnResponse(
              new AddOffsetsToTxnResponseData()
                  .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code())));
    }
    if (!broker.access().allowed(context, AclOperation.READ, ResourceType.GROUP, data.groupId())) {
      return CompletableFuture.completedFuture(
          new AddOffsetsToTxnResponse(
              new AddOffsetsToTxnResponseData()
                  .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())));
    }
    int partition = broker.groups().coordinator().partitionFor(data.groupId());
    return broker
        .transactions()
        .coordinator()
        .addPartitions(
            data.transactionalId(),
            data.producerId(),
            data.producerEpoch(),
            Set.of(new TopicPartition(OffsetsTopic.NAME, partition)))
        .thenApply(
            error ->
                new AddOffsetsToTxnResponse(
                    new AddOffsetsToTxnResponseData().setErrorCode(error.code())));
  }
}
