package dev.diskless.broker.handler;

import dev.diskless.broker.txn.TransactionCoordinator;
import dev.diskless.storage.metadata.TransactionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeTransactionsRequest;
import org.apache.kafka.common.requests.DescribeTransactionsResponse;

/**
 * DescribeTransactions ({@code kafka-transactions.sh describe}): the coordinator's state of each
 * transactional id it coordinates; NOT_COORDINATOR for the others, TRANSACTIONAL_ID_NOT_FOUND for
 * ids without state.
 */
final class DescribeTransactionsHandler {

  private final BrokerContext broker;

  DescribeTransactionsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<DescribeTransactionsResponse> handle(DescribeTransactionsRequest request) {
    DescribeTransactionsResponseData data = new DescribeTransactionsResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (String id : request.data().transactionalIds()) {
      TransactionState state = new TransactionState().setTransactionalId(id);
      data.transactionStates().add(state);
      all.add(broker.transactions().coordinator().describe(id).thenAccept(r -> fill(state, r)));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new DescribeTransactionsResponse(data));
  }

  private static void fill(
      TransactionState state, TransactionCoordinator.Result<TransactionRecord> r) {
    if (r.error() != Errors.NONE) {
      state.setErrorCode(r.error().code());
      return;
    }
    TransactionRecord t = r.value();
    state
        .setTransactionState(t.state())
        .setTransactionTimeoutMs(t.timeoutMs())
        .setTransactionStartTimeMs(t.txnStartMs())
        .setProducerId(t.producerId())
        .setProducerEpoch(t.producerEpoch());
    for (TransactionRecord.Partition p : t.partitions()) {
      TopicData topic = state.topics().find(p.topic());
      if (topic == null) {
        topic = new TopicData().setTopic(p.topic());
        state.topics().add(topic);
      }
      topic.partitions().add(p.partition());
    }
  }
}
