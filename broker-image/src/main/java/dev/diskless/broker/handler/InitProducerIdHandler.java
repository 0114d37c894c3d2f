package dev.diskless.broker.handler;

import dev.diskless.broker.txn.TransactionCoordinator.InitResult;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;

/**
 * Gives an idempotent producer a cluster-unique id at epoch 0; a transactional producer gets its id
 * and a bumped epoch from its transaction coordinator, which fences older producers with the same
 * transactional id and aborts their ongoing transaction.
 */
final class InitProducerIdHandler {

  private final BrokerContext broker;

  InitProducerIdHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<InitProducerIdResponse> handle(InitProducerIdRequest request) {
    var data = request.data();
    if (data.transactionalId() != null) {
      return broker
          .transactions()
          .coordinator()
          .initProducerId(
              data.transactionalId(),
              data.transactionTimeoutMs(),
              data.producerId(),
              data.producerEpoch())
          .thenApply(InitProducerIdHandler::response);
    }
    return broker
        .producerIds()
        .next()
        .thenApply(
            id ->
                new InitProducerIdResponse(
                    new InitProducerIdResponseData().setProducerId(id).setProducerEpoch((short) 0)))
        .exceptionally(
            t ->
                new InitProducerIdResponse(
                    new InitProducerIdResponseData()
                        .setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())));
  }

  private static InitProducerIdResponse response(InitResult r) {
    return new InitProducerIdResponse(
        new InitProducerIdResponseData()
            .setErrorCode(r.error().code())
            .setProducerId(r.producerId())
            .setProducerEpoch(r.producerEpoch()));
  }
}
