package dev.diskless.storage.wal.volume;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.batch.ControlRecords;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.metadata.AbortedTransaction;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.ProducerBatch;
import dev.diskless.storage.metadata.ProducerSnapshot;
import dev.diskless.storage.metadata.ProducerStateStore;
import dev.diskless.storage.wal.ObjectWal;
import dev.diskless.storage.wal.PendingAppend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a new owner does, in volume-WAL mode, before it serves a partition: if the previous owner
 * did not hand the partition over itself, wait until that owner's lease has expired by the
 * database's clock (after which it can no longer acknowledge: see {@link
 * dev.diskless.storage.metadata.LeaseKeeper}); then read every broker directory on the shared
 * volume, take the records of this partition from earlier epochs that continue the committed high
 * watermark without a gap (the highest epoch wins where two cover the same offsets), and commit
 * them through the object WAL under the new epoch, with the idempotent-producer state they imply.
 */
public final class VolumeRecovery {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeRecovery.class);

  private final VolumeWalConfig config;
  private final BrokerRegistry brokers;
  private final ProducerStateStore producerStates;
  private final int nodeId;

  public VolumeRecovery(
      VolumeWalConfig config,
      BrokerRegistry brokers,
      ProducerStateStore producerStates,
      int nodeId) {
    this.config = config;
    this.brokers = brokers;
    this.producerStates = producerStates;
    this.nodeId = nodeId;
  }

  CompletableFuture<Void> recover(PartitionMetadata meta, ObjectWal uploader) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("volume-recovery")
        .start(
            () -> {
              try {
                recoverBlocking(meta, uploader);
                done.complete(null);
              } catch (Throwable t) {
                done.completeExceptionally(t);
              }
            });
    return done;
  }

  private void recoverBlocking(PartitionMetadata meta, ObjectWal uploader) throws Exception {
    TopicPartitionId tp = meta.partition();
    if (meta.previousOwner().isPresent()
        && meta.previousOwner().getAsInt() != nodeId
        && !meta.previousOwnerReleased()
        && meta.previousOwnerEpoch() >= 0) {
      waitForLeaseExpiry(tp, meta.previousOwner().getAsInt(), meta.previousOwnerEpoch());
    }
    List<WalRecord> chain = chain(tp, meta);
    if (chain.isEmpty()) {
      return;
    }
    Map<Long, ProducerSnapshot> producers =
        new HashMap<>(producerStates.load(tp).get(30, TimeUnit.SECONDS));
    List<PendingAppend> appends = new ArrayList<>(chain.size());
    for (int i = 0; i < chain.size(); i++) {
      WalRecord r = chain.get(i);
      Map<Long, ProducerSnapshot> touched = new LinkedHashMap<>();
      List<AbortedTransaction> aborted = new ArrayList<>(0);
      for (RecordBatchHeader h : RecordBatches.headers(r.data().duplicate())) {
        if (h.hasProducerId()) {
          ProducerSnapshot current = producers.get(h.producerId());
          ProducerSnapshot s;
          if (h.isControl()) {
            Optional<ControlRecords.Marker> marker = ControlRecords.marker(r.data(), h);
            if (marker.isEmpty()) {
              continue;
            }
            s = applyMarker(current, h, marker.get());
            if (!marker.get().commit() && current != null && current.txnFirstOffset() >= 0) {
              aborted.add(
                  new AbortedTransaction(h.producerId(), current.txnFirstOffset(), h.baseOffset()));
            }
          } else {
            s = apply(current, h);
          }
          producers.put(h.producerId(), s);
          touched.put(h.producerId(), s);
        }
      }
      appends.add(
          new PendingAppend(
              tp,
              meta.leaderEpoch(),
              r.data(),
              r.baseOffset(),
              r.lastOffset(),
              r.maxTimestamp(),
              r.batchCount(),
              List.copyOf(touched.values()),
              aborted,
              new CompletableFuture<>()));
    }
    appends.forEach(uploader::append);
    uploader.flush();
    for (PendingAppend a : appends) {
      a.committed().get(5, TimeUnit.MINUTES);
    }
    LOG.info(
        "partition={} epoch={} replayed {} volume WAL records, offsets {}..{}",
        tp,
        meta.leaderEpoch(),
        chain.size(),
        chain.get(0).baseOffset(),
        chain.get(chain.size() - 1).lastOffset());
  }

  private void waitForLeaseExpiry(TopicPartitionId tp, int node, long brokerEpoch)
      throws Exception {
    long deadline = System.nanoTime() + config.leaseWait().toNanos();
    boolean logged = false;
    while (brokers.leaseRunning(node, brokerEpoch).get(30, TimeUnit.SECONDS)) {
      if (System.nanoTime() > deadline) {
        throw new StorageException(
            Kind.STORAGE_UNAVAILABLE,
            "partition "
                + tp
                + ": previous owner node "
                + node
                + " (epoch "
                + brokerEpoch
                + ") still holds a live lease; it may still acknowledge appends, so this node cannot serve yet");
      }
      if (!logged) {
        LOG.info(
            "partition={} waiting for the lease of previous owner node {} to expire", tp, node);
        logged = true;
      }
      Thread.sleep(200);
    }
  }

  /**
   * The records continuing the committed high watermark, gap-free, highest epoch first per offset.
   */
  private List<WalRecord> chain(TopicPartitionId tp, PartitionMetadata meta) throws IOException {
    Map<Long, WalRecord> byBase = new HashMap<>();
    if (Files.isDirectory(config.root())) {
      try (var dirs = Files.list(config.root())) {
        for (Path dir : dirs.filter(Files::isDirectory).toList()) {
          for (WalRecord r : WalRecord.readDirectory(dir)) {
            if (r.partition().equals(tp)
                && r.leaderEpoch() < meta.leaderEpoch()
                && r.lastOffset() >= meta.highWatermark()) {
              byBase.merge(r.baseOffset(), r, (a, b) -> a.leaderEpoch() >= b.leaderEpoch() ? a : b);
            }
          }
        }
      }
    }
    List<WalRecord> chain = new ArrayList<>();
    long next = meta.highWatermark();
    for (WalRecord r; (r = byBase.get(next)) != null; next = r.lastOffset() + 1) {
      chain.add(r);
    }
    return chain;
  }

  private static ProducerSnapshot apply(ProducerSnapshot current, RecordBatchHeader h) {
    List<ProducerBatch> recent = new ArrayList<>();
    if (current != null && current.producerEpoch() == h.producerEpoch()) {
      recent.addAll(current.recent());
    }
    recent.add(
        new ProducerBatch(h.baseSequence(), h.lastSequence(), h.baseOffset(), h.lastOffset()));
    while (recent.size() > ProducerSnapshot.MAX_RECENT) {
      recent.remove(0);
    }
    long txnFirstOffset = current == null ? -1 : current.txnFirstOffset();
    if (h.isTransactional() && txnFirstOffset < 0) {
      txnFirstOffset = h.baseOffset();
    }
    return new ProducerSnapshot(
        h.producerId(),
        h.producerEpoch(),
        h.maxTimestamp(),
        recent,
        txnFirstOffset,
        current == null ? -1 : current.coordinatorEpoch());
  }

  /** A transaction marker: the transaction ends; a newer epoch drops the older sequences. */
  private static ProducerSnapshot applyMarker(
      ProducerSnapshot current, RecordBatchHeader h, ControlRecords.Marker marker) {
    boolean sameEpoch = current != null && current.producerEpoch() >= h.producerEpoch();
    return new ProducerSnapshot(
        h.producerId(),
        sameEpoch ? current.producerEpoch() : h.producerEpoch(),
        h.maxTimestamp(),
        sameEpoch ? current.recent() : List.of(),
        -1,
        marker.coordinatorEpoch());
  }
}
