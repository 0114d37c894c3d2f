package dev.diskless.storage.log;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.metadata.ProducerBatch;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kafka's idempotent-producer rules for one append: epochs never go back, a new epoch of a known
 * producer starts at sequence 0, a producer unknown to the partition may start at any sequence,
 * sequences are consecutive (wrapping at {@code Integer.MAX_VALUE}), and a batch equal to one of
 * the producer's last five is a duplicate that is answered with the original offsets instead of
 * being written again. Checks run on a staged copy; nothing changes unless the whole append is
 * accepted.
 */
final class IdempotenceCheck {

  /**
   * The outcome: either a duplicate of an earlier batch, or staged entries to install after the
   * append.
   */
  record Result(Optional<ProducerEntry.Recent> duplicate, Map<Long, ProducerEntry> staged) {}

  /** The epoch of a producer this partition holds no state for (Kafka's NO_PRODUCER_EPOCH). */
  private static final short NO_EPOCH = -1;

  private IdempotenceCheck() {}

  static Result check(Map<Long, ProducerEntry> producers, List<RecordBatchHeader> batches) {
    Map<Long, ProducerEntry> staged = new HashMap<>();
    for (int i = 0; i < batches.size(); i++) {
      RecordBatchHeader h = batches.get(i);
      if (!h.hasProducerId()) {
        continue;
      }
      ProducerEntry entry = staged.get(h.producerId());
      if (entry == null) {
        ProducerEntry existing = producers.get(h.producerId());
        entry =
            existing != null
                ? existing.copy()
                : new ProducerEntry(h.producerId(), NO_EPOCH, -1, new ArrayDeque<>());
        staged.put(h.producerId(), entry);
      }
      if (h.producerEpoch() < entry.epoch) {
        throw new StorageException(
            Kind.INVALID_PRODUCER_EPOCH,
            "producer "
                + h.producerId()
                + " epoch "
                + h.producerEpoch()
                + " is older than the current epoch "
                + entry.epoch);
      }
      if (h.producerEpoch() == entry.epoch) {
        Optional<ProducerEntry.Recent> dup =
            entry.recent.stream()
                .filter(
                    r ->
                        r.batch().firstSequence() == h.baseSequence()
                            && r.batch().lastSequence() == h.lastSequence())
                .findFirst();
        if (dup.isPresent()) {
          if (i == 0) {
            return new Result(dup, Map.of());
          }
          throw outOfOrder(h, entry);
        }
        if (!inSequence(entry.lastSequence(), h.baseSequence())) {
          throw outOfOrder(h, entry);
        }
      } else {
        // A newer epoch starts its sequence at zero. A producer this partition has no state for
        // (first write here, or the topic was re-created under it) is taken at any sequence: the
        // client owns its sequence numbers, as in Kafka's ProducerAppendInfo.checkSequence.
        if (h.baseSequence() != 0 && entry.epoch != NO_EPOCH) {
          throw outOfOrder(h, entry);
        }
        entry.epoch = h.producerEpoch();
        entry.recent.clear();
      }
      // Reserve the sequence range now so later batches of this append are checked against it;
      // offsets follow.
      entry.add(new ProducerBatch(h.baseSequence(), h.lastSequence(), -1, -1), null);
    }
    return new Result(Optional.empty(), staged);
  }

  private static boolean inSequence(int lastSequence, int nextSequence) {
    return nextSequence == lastSequence + 1L
        || (lastSequence == Integer.MAX_VALUE && nextSequence == 0);
  }

  private static StorageException outOfOrder(RecordBatchHeader h, ProducerEntry entry) {
    return new StorageException(
        Kind.OUT_OF_ORDER_SEQUENCE,
        "producer "
            + h.producerId()
            + " epoch "
            + h.producerEpoch()
            + " sent sequence "
            + h.baseSequence()
            + " but the last appended sequence is "
            + entry.lastSequence());
  }
}
