package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TransactionRecord;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ListTransactionsRequest;
import org.apache.kafka.common.requests.ListTransactionsResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.coordinator.transaction.TransactionState;

/**
 * ListTransactions ({@code kafka-transactions.sh list}): the transactions this broker coordinates,
 * filtered as Kafka filters them — by state (unknown state names are returned, not refused), by
 * producer id, by running longer than a duration (v1), by a transactional id pattern (v2).
 */
final class ListTransactionsHandler {

  private final BrokerContext broker;

  ListTransactionsHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<ListTransactionsResponse> handle(
      RequestContext context, ListTransactionsRequest request) {
    var filters = request.data();
    ListTransactionsResponseData data = new ListTransactionsResponseData();
    Set<String> states = new HashSet<>();
    for (String s : filters.stateFilters()) {
      if (TransactionState.fromName(s).isPresent()) {
        states.add(s);
      } else {
        data.unknownStateFilters().add(s);
      }
    }
    Set<Long> producerIds = new HashSet<>(filters.producerIdFilters());
    long duration = filters.durationFilter();
    Pattern pattern;
    try {
      String p = filters.transactionalIdPattern();
      pattern = p == null || p.isEmpty() ? null : Pattern.compile(p);
    } catch (PatternSyntaxException e) {
      return CompletableFuture.completedFuture(
          new ListTransactionsResponse(
              data.setErrorCode(Errors.INVALID_REGULAR_EXPRESSION.code())));
    }
    // Asked only for states that do not exist: nothing matches.
    boolean none = states.isEmpty() && !filters.stateFilters().isEmpty();
    long now = System.currentTimeMillis();
    return broker
        .transactions()
        .coordinator()
        .list()
        .thenApply(
            rows -> {
              // As Kafka: only the ids the client may describe.
              Set<String> describable =
                  broker
                      .access()
                      .allowedNames(
                          context,
                          AclOperation.DESCRIBE,
                          ResourceType.TRANSACTIONAL_ID,
                          rows.stream().map(TransactionRecord::transactionalId).toList(),
                          false);
              for (TransactionRecord r : rows) {
                if (!describable.contains(r.transactionalId())
                    || none
                    || (!states.isEmpty() && !states.contains(r.state()))
                    || (!producerIds.isEmpty() && !producerIds.contains(r.producerId()))
                    || (duration >= 0 && (r.txnStartMs() < 0 || now - r.txnStartMs() < duration))
                    || (pattern != null && !pattern.matcher(r.transactionalId()).matches())) {
                  continue;
                }
                data.transactionStates()
                    .add(
                        new ListTransactionsResponseData.TransactionState()
                            .setTransactionalId(r.transactionalId())
                            .setProducerId(r.producerId())
                            .setTransactionState(r.state()));
              }
              return new ListTransactionsResponse(data);
            })
        .exceptionally(
            t ->
                new ListTransactionsResponse(
                    data.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())));
  }
}
