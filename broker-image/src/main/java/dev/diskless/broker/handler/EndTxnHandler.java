package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.EndTxnResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * EndTxn (versions 0 to 4, transactions version 1): commits or aborts the producer's transaction.
 * The answer comes once the decision is durable; the markers are written after it.
 */
final class EndTxnHandler {

  private final BrokerContext broker;

  EndTxnHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<EndTxnResponse> handle(RequestContext context, EndTxnRequest request) {
    var data = request.data();
    // As Kafka: WRITE on the transactional id.
    if (!broker
        .access()
        .allowed(
            context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())) {
      return CompletableFuture.completedFuture(
          new EndTxnResponse(
              new EndTxnResponseData()
                  .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code())
                  .setProducerId(-1)
                  .setProducerEpoch((short) -1)));
    }
    return broker
        .transactions()
        .coordinator()
        .endTxn(data.transactionalId(), data.producerId(), data.producerEpoch(), data.committed())
        .thenApply(
            error -> new EndTxnResponse(new EndTxnResponseData().setErrorCode(error.code())));
  }
}
