package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;

/**
 * Gives idempotent producers a cluster-unique id at epoch 0. Transactional producers are refused
 * until transactions are implemented.
 */
final class InitProducerIdHandler {

  private final BrokerContext broker;

  InitProducerIdHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<InitProducerIdResponse> handle(InitProducerIdRequest request) {
    if (request.data().transactionalId() != null) {
      return CompletableFuture.completedFuture(
          new InitProducerIdResponse(
              new InitProducerIdResponseData()
                  .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code())));
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
}
