package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.EndTxnResponse;

/**
 * EndTxn (versions 0 to 4, transactions version 1): commits or aborts the producer's transaction.
 * The answer comes once the decision is durable; the markers are written after it.
 */
final class EndTxnHandler {

  private final BrokerContext broker;

  EndTxnHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<EndTxnResponse> handle(EndTxnRequest request) {
    var data = request.data();
    return broker
        .transactions()
        .coordinator()
        .endTxn(data.transactionalId(), data.producerId(), data.producerEpoch(), data.committed())
        .thenApply(
            error -> new EndTxnResponse(new EndTxnResponseData().setErrorCode(error.code())));
  }
}
