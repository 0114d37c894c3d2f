package dev.diskless.broker.handler;

import dev.diskless.broker.txn.TransactionCoordinator;
import dev.diskless.storage.metadata.TransactionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeTransactionsRequest;
import org.apache.kafka.common.requests.DescribeTransactionsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

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

  CompletableFuture<DescribeTransactionsResponse> handle(
      RequestContext context, DescribeTransactionsRequest request) {
    DescribeTransactionsResponseData data = new DescribeTransactionsResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    Access access = broker.access();
    for (String id : request.data().transactionalIds()) {
      TransactionState state = new TransactionState().setTransactionalId(id);
      data.transactionStates().add(state);
      // As Kafka: DESCRIBE on the id; partitions of topics the client may not describe are left
      // out.
      if (!access.allowed(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id)) {
        state.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        continue;
      }
      all.add(
          broker
              .transactions()
              .coordinator()
              .describe(id)
              .thenAccept(
                  r -> {
                    fill(state, r);
                    if (access.enabled()) {
                      Set<String> describable =
                          access.allowedNames(
                              context,
                              AclOperation.DESCRIBE,
                              ResourceType.TOPIC,
                              state.topics().stream().map(TopicData::topic).toList(),
                              false);
                      state.topics().removeIf(t -> !describable.contains(t.topic()));
                    }
                  }));
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
