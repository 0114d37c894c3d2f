package dev.diskless.broker.handler;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitResponse;
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
    return broker
        .groups()
        .coordinator()
        .commitTransactionalOffsets(context, request.data(), BufferSupplier.NO_CACHING)
        .thenApply(TxnOffsetCommitResponse::new);
  }
}
