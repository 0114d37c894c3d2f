package dev.diskless.storage.metadata;

import java.util.List;

/**
 * One transactional id's coordinator state, as Kafka's {@code TransactionMetadata} holds it: the
 * producer id and epoch it was given (and the previous and next ones while they rotate), its
 * timeout, its state by Kafka's state name, the partitions of its transaction and when it started
 * and last changed.
 *
 * @param coordinatorPartition the partition of {@code __transaction_state} the id hashes onto
 */
public record TransactionRecord(
    String transactionalId,
    int coordinatorPartition,
    long producerId,
    long prevProducerId,
    long nextProducerId,
    short producerEpoch,
    short lastProducerEpoch,
    int timeoutMs,
    String state,
    List<Partition> partitions,
    long txnStartMs,
    long lastUpdateMs,
    short clientTransactionVersion) {

  /** A partition of a transaction, by topic name as Kafka's clients name it. */
  public record Partition(String topic, int partition) {}

  public TransactionRecord {
    partitions = List.copyOf(partitions);
  }
}
