package dev.diskless.storage.log;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.batch.ControlRecords;
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
 *
 * <p>One deviation from Kafka: for a while after a partition was taken over from another owner, a
 * producer it holds no state for must start at sequence 0 (of any epoch), otherwise
 * OUT_OF_ORDER_SEQUENCE. Kafka's "any sequence" ({@code ProducerAppendInfo.checkSequence}) is there
 * for a producer whose state the broker lost; right after a move the producer is more likely one
 * whose earlier batch was refused by the previous owner and is still to be retried here, while its
 * next batches, sent after it learnt the new owner, arrive first. Taking those would leave the
 * earlier batch out of order for as long as the client retries it (the Java client does not bump
 * its epoch for a batch that is not its next sequence): a stalled producer and records out of
 * order. Refused instead, the Java producer retries them without bumping its epoch when they are
 * not its next sequence (the earlier batch is still in flight and goes first), and bumps its epoch,
 * starting again at 0, when they are (its state here really is gone). Partitions that have not
 * moved, or moved long enough ago, keep Kafka's rule, so clients that carry sequences over into a
 * re-created topic (librdkafka treats this OUT_OF_ORDER_SEQUENCE as fatal) are not affected.
 *
 * <p>Transactions, as Kafka's {@code ProducerAppendInfo}: a transaction marker (control batch)
 * carries no sequence; it is refused with an epoch older than the producer's or from a coordinator
 * older than the one that wrote the producer's last marker, and a newer epoch replaces the
 * producer's (its sequences start again at 0). Plain records from a producer whose transaction is
 * open on the partition are refused (INVALID_TXN_STATE). A coordinator's writes (transactional
 * offset commits) carry no sequences: only their epochs are checked.
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

  /**
   * @param unknownStartAtZero whether a producer the partition holds no state for must start at
   *     sequence 0 (the partition was taken over recently) rather than at any sequence
   */
  static Result check(
      Map<Long, ProducerEntry> producers,
      List<RecordBatchHeader> batches,
      List<ControlRecords.Marker> markers,
      boolean unknownStartAtZero,
      boolean fromCoordinator) {
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
      if (h.isControl()) {
        checkMarker(h, markers.get(i), entry);
        continue;
      }
      if (!h.isTransactional() && entry.txnFirstOffset >= 0) {
        throw new StorageException(
            Kind.INVALID_TXN_STATE,
            "producer "
                + h.producerId()
                + " sent records outside a transaction while its transaction from offset "
                + entry.txnFirstOffset
                + " is open");
      }
      if (fromCoordinator) {
        // Kafka checks sequences of client writes only; a coordinator's have none.
        if (h.producerEpoch() > entry.epoch) {
          entry.epoch = h.producerEpoch();
          entry.recent.clear();
        }
        continue;
      }
      if (h.producerEpoch() == entry.epoch) {
        Optional<ProducerEntry.Recent> dup = duplicateOf(entry, h);
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
        // client owns its sequence numbers, as in Kafka's ProducerAppendInfo.checkSequence —
        // except right after a take-over, when its earlier batches may still be on their way.
        if (h.baseSequence() != 0 && entry.epoch != NO_EPOCH) {
          throw outOfOrder(h, entry);
        }
        if (h.baseSequence() != 0 && unknownStartAtZero) {
          throw unknownAfterTakeOver(h);
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

  private static void checkMarker(
      RecordBatchHeader h, ControlRecords.Marker marker, ProducerEntry entry) {
    if (marker == null) {
      throw new StorageException(
          Kind.CORRUPT_BATCH,
          "control batch of producer " + h.producerId() + " holds no transaction marker");
    }
    if (marker.coordinatorEpoch() < entry.coordinatorEpoch) {
      throw new StorageException(
          Kind.COORDINATOR_FENCED,
          "transaction marker of producer "
              + h.producerId()
              + " from coordinator epoch "
              + marker.coordinatorEpoch()
              + " (zombie); the current coordinator epoch is "
              + entry.coordinatorEpoch);
    }
    if (h.producerEpoch() > entry.epoch) {
      entry.epoch = h.producerEpoch();
      entry.recent.clear();
    }
  }

  /** The recent batch {@code h} repeats, if any (a loop: this runs for every produced batch). */
  private static Optional<ProducerEntry.Recent> duplicateOf(
      ProducerEntry entry, RecordBatchHeader h) {
    for (ProducerEntry.Recent r : entry.recent) {
      if (r.batch().firstSequence() == h.baseSequence()
          && r.batch().lastSequence() == h.lastSequence()) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  private static boolean inSequence(int lastSequence, int nextSequence) {
    return nextSequence == lastSequence + 1L
        || (lastSequence == Integer.MAX_VALUE && nextSequence == 0);
  }

  private static StorageException unknownAfterTakeOver(RecordBatchHeader h) {
    return new StorageException(
        Kind.OUT_OF_ORDER_SEQUENCE,
        "producer "
            + h.producerId()
            + " epoch "
            + h.producerEpoch()
            + " sent sequence "
            + h.baseSequence()
            + " but this partition, recently taken over from another owner, has no state for it:"
            + " its earlier batches may still be on their way, so it must start at sequence 0");
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
