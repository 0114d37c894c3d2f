package dev.diskless.storage.compaction;

import dev.diskless.storage.metadata.AbortedTransaction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Tells which batches of a log belong to aborted transactions: a producer has one transaction at a
 * time on a partition, so its transactional batches from an aborted transaction's first offset up
 * to that transaction's ABORT marker are the aborted ones.
 */
final class AbortedBatches {

  private final Map<Long, List<AbortedTransaction>> byProducer = new HashMap<>();

  AbortedBatches(List<AbortedTransaction> aborted) {
    for (AbortedTransaction a : aborted) {
      byProducer.computeIfAbsent(a.producerId(), p -> new ArrayList<>(1)).add(a);
    }
  }

  boolean contains(RecordBatch batch) {
    if (!batch.isTransactional() || batch.isControlBatch()) {
      return false;
    }
    List<AbortedTransaction> txns = byProducer.get(batch.producerId());
    if (txns == null) {
      return false;
    }
    for (AbortedTransaction a : txns) {
      if (batch.baseOffset() >= a.firstOffset() && batch.lastOffset() < a.lastOffset()) {
        return true;
      }
    }
    return false;
  }
}
