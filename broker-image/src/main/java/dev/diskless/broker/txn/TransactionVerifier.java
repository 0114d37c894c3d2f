package dev.diskless.broker.txn;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.metadata.TransactionRecord;
import dev.diskless.storage.metadata.TransactionStore;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.coordinator.transaction.TransactionState;

/**
 * Kafka's transaction verification (KIP-890 part 1, {@code handleVerifyPartitionsInTransaction}):
 * before a producer's first transactional write to a partition is appended, its owner checks that
 * the coordinator has the partition in the producer's ongoing transaction, so a write arriving
 * after the transaction ended cannot open a transaction no marker will ever close (a hanging
 * transaction). The coordinator's state is in PostgreSQL, so the owner reads it there instead of
 * asking the coordinator over the network.
 */
public final class TransactionVerifier {

  private final TransactionStore store;

  public TransactionVerifier(TransactionStore store) {
    this.store = store;
  }

  /**
   * NONE if {@code partition} is in the ongoing transaction of {@code producerId} at {@code
   * producerEpoch}, else the coordinator's error: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED,
   * CONCURRENT_TRANSACTIONS (the previous transaction is still completing) or TRANSACTION_ABORTABLE
   * (not added).
   */
  public CompletableFuture<Errors> verify(
      String transactionalId, long producerId, short producerEpoch, TopicPartition partition) {
    if (transactionalId == null || transactionalId.isEmpty()) {
      return CompletableFuture.completedFuture(Errors.INVALID_REQUEST);
    }
    return store
        .get(transactionalId)
        .thenApply(
            row -> {
              if (row.isEmpty() || row.get().producerId() != producerId) {
                return Errors.INVALID_PRODUCER_ID_MAPPING;
              }
              TransactionRecord r = row.get();
              if (r.producerEpoch() != producerEpoch) {
                return Errors.PRODUCER_FENCED;
              }
              if (TransactionState.PREPARE_COMMIT.stateName().equals(r.state())
                  || TransactionState.PREPARE_ABORT.stateName().equals(r.state())) {
                return Errors.CONCURRENT_TRANSACTIONS;
              }
              return TransactionState.ONGOING.stateName().equals(r.state())
                      && r.partitions()
                          .contains(
                              new TransactionRecord.Partition(
                                  partition.topic(), partition.partition()))
                  ? Errors.NONE
                  : Errors.TRANSACTION_ABORTABLE;
            })
        .exceptionally(
            t ->
                StorageException.unwrap(t) instanceof StorageException
                    ? Errors.COORDINATOR_NOT_AVAILABLE
                    : Errors.UNKNOWN_SERVER_ERROR);
  }
}
