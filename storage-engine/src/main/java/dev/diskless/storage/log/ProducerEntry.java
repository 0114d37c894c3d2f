package dev.diskless.storage.log;

import dev.diskless.storage.metadata.ProducerBatch;
import dev.diskless.storage.metadata.ProducerSnapshot;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * In-memory state of one idempotent producer on an owned partition, including batches not committed
 * yet: each recent batch keeps the future of its commit so that a retry of a batch still in flight
 * waits for the original. A transactional producer also has the first offset of its transaction
 * open here (-1 if none) and the epoch of the coordinator that wrote its last marker.
 */
final class ProducerEntry {

  /**
   * A recent batch and the commit it waits for (already completed for batches loaded from
   * metadata).
   */
  record Recent(ProducerBatch batch, CompletableFuture<Void> committed) {}

  final long producerId;
  short epoch;
  long lastTimestamp;
  final ArrayDeque<Recent> recent;
  long txnFirstOffset = -1;
  int coordinatorEpoch = -1;

  ProducerEntry(long producerId, short epoch, long lastTimestamp, ArrayDeque<Recent> recent) {
    this.producerId = producerId;
    this.epoch = epoch;
    this.lastTimestamp = lastTimestamp;
    this.recent = recent;
  }

  static ProducerEntry fromSnapshot(ProducerSnapshot s) {
    ArrayDeque<Recent> recent = new ArrayDeque<>();
    CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
    s.recent().forEach(b -> recent.addLast(new Recent(b, done)));
    ProducerEntry e =
        new ProducerEntry(s.producerId(), s.producerEpoch(), s.lastTimestamp(), recent);
    e.txnFirstOffset = s.txnFirstOffset();
    e.coordinatorEpoch = s.coordinatorEpoch();
    return e;
  }

  ProducerEntry copy() {
    ProducerEntry e = new ProducerEntry(producerId, epoch, lastTimestamp, new ArrayDeque<>(recent));
    e.txnFirstOffset = txnFirstOffset;
    e.coordinatorEpoch = coordinatorEpoch;
    return e;
  }

  int lastSequence() {
    return recent.isEmpty() ? -1 : recent.peekLast().batch().lastSequence();
  }

  void add(ProducerBatch batch, CompletableFuture<Void> committed) {
    recent.addLast(new Recent(batch, committed));
    while (recent.size() > ProducerSnapshot.MAX_RECENT) {
      recent.pollFirst();
    }
  }

  ProducerSnapshot snapshot() {
    List<ProducerBatch> batches = new ArrayList<>(recent.size());
    recent.forEach(r -> batches.add(r.batch()));
    return new ProducerSnapshot(
        producerId, epoch, lastTimestamp, batches, txnFirstOffset, coordinatorEpoch);
  }
}
