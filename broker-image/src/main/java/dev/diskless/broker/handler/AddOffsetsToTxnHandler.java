package dev.diskless.broker.handler;

import dev.diskless.broker.group.OffsetsTopic;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnResponse;

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

  CompletableFuture<AddOffsetsToTxnResponse> handle(AddOffsetsToTxnRequest request) {
    var data = request.data();
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
