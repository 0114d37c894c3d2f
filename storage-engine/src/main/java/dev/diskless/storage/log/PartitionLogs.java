package dev.diskless.storage.log;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.batch.ControlRecords;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.cache.TailCache;
import dev.diskless.storage.metadata.AbortedTransaction;
import dev.diskless.storage.metadata.AbortedTransactions;
import dev.diskless.storage.metadata.CommitOutcome;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LeaderEpochs;
import dev.diskless.storage.metadata.LogBounds;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.ProducerBatch;
import dev.diskless.storage.metadata.ProducerSnapshot;
import dev.diskless.storage.metadata.ProducerStateStore;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.wal.CommitListener;
import dev.diskless.storage.wal.PendingAppend;
import dev.diskless.storage.wal.WriteAheadLog;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of the partitions this engine owns: it is each partition's sequencer. An append is
 * validated, checked against idempotent-producer state, given the next offsets and handed to the
 * WAL; its future completes when the flush holding it has been committed under this engine's epoch.
 * When a flush fails, the partition's uncommitted offsets are void: it refuses appends until its
 * in-flight ones have settled, then reloads its state from metadata and carries on from the
 * committed high watermark.
 */
public final class PartitionLogs implements CommitListener {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionLogs.class);

  private final int nodeId;
  private final PartitionOwnership ownership;
  private final ProducerStateStore producerStates;
  private final AbortedTransactions abortedTransactions;
  private final LeaderEpochs leaderEpochs;
  private final TailCache tailCache;
  private final StorageMetrics metrics;
  private final Map<TopicPartitionId, OwnedPartition> owned = new ConcurrentHashMap<>();
  private final List<BiConsumer<TopicPartitionId, Long>> highWatermarkListeners =
      new CopyOnWriteArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();

  /**
   * Partitions passed on by metadata alone, with the epoch they were owned at here: an open of that
   * epoch still running must not start serving it. Guarded by {@link #lock}.
   */
  private final Map<TopicPartitionId, Integer> passedOn = new java.util.HashMap<>();

  private volatile WriteAheadLog wal;

  public PartitionLogs(
      int nodeId,
      PartitionOwnership ownership,
      ProducerStateStore producerStates,
      AbortedTransactions abortedTransactions,
      LeaderEpochs leaderEpochs,
      TailCache tailCache,
      StorageMetrics metrics) {
    this.nodeId = nodeId;
    this.ownership = ownership;
    this.producerStates = producerStates;
    this.abortedTransactions = abortedTransactions;
    this.leaderEpochs = leaderEpochs;
    this.tailCache = tailCache;
    this.metrics = metrics;
    metrics.gauge("diskless.partitions.owned", owned::size);
    metrics.gauge(
        "diskless.transactions.open",
        () -> owned.values().stream().mapToInt(p -> p.openTransactions.size()).sum());
    // How far read_committed readers trail the high watermark on the worst owned partition.
    metrics.gauge(
        "diskless.transactions.lso.lag.max",
        () ->
            owned.values().stream()
                .mapToLong(p -> p.highWatermark - p.lastStableOffset())
                .max()
                .orElse(0));
  }

  /** Wires the WAL, which needs this object as its listener. */
  public void attach(WriteAheadLog wal) {
    this.wal = wal;
  }

  /**
   * While one request appends to several partitions: their appends are flushed, and acknowledged,
   * together rather than split between two flushes ({@link WriteAheadLog#hold()}).
   */
  public WriteAheadLog.Hold holdFlushes() {
    WriteAheadLog w = wal;
    return w == null ? WriteAheadLog.Hold.NONE : w.hold();
  }

  /**
   * Called after every commit that advanced a partition's high watermark (e.g. to wake long-polling
   * fetches).
   */
  public void addHighWatermarkListener(BiConsumer<TopicPartitionId, Long> listener) {
    highWatermarkListeners.add(listener);
  }

  /**
   * Starts serving a partition that metadata says this node owns, loading its state from metadata
   * alone. Returns its metadata; fails with {@link Kind#NOT_OWNER} if metadata names another owner.
   */
  public CompletableFuture<PartitionMetadata> open(TopicPartitionId tp) {
    return ownership
        .describe(tp)
        .thenCompose(
            meta -> {
              if (meta.owner().isEmpty() || meta.owner().getAsInt() != nodeId) {
                return CompletableFuture.completedFuture(meta);
              }
              // A previous owner may have acknowledged appends that metadata does not hold yet.
              return wal.recover(meta).thenCompose(v -> ownership.describe(tp));
            })
        .thenCompose(
            meta ->
                // The epoch starts where appends will continue; recorded before any append.
                meta.owner().isPresent() && meta.owner().getAsInt() == nodeId
                    ? leaderEpochs
                        .recordStart(tp, meta.leaderEpoch(), meta.highWatermark())
                        .thenApply(v -> meta)
                    : CompletableFuture.completedFuture(meta))
        .thenCompose(
            meta ->
                producerStates
                    .load(tp)
                    .thenCombine(
                        abortedTransactions.load(tp, meta.logStartOffset()),
                        (producers, aborted) -> install(tp, meta, producers, aborted)));
  }

  /**
   * Whether another broker owned the partition before this node's epoch. Acquiring a partition this
   * node already owned (two assignments racing after CreateTopics, or this node re-acquiring after
   * its lease came back) names this node as the previous owner: no batch of a producer can be on
   * its way here from elsewhere, so Kafka's "any sequence" rule stays.
   */
  static boolean takenOverFromAnother(PartitionMetadata meta, int nodeId) {
    return meta.previousOwner().isPresent() && meta.previousOwner().getAsInt() != nodeId;
  }

  private PartitionMetadata install(
      TopicPartitionId tp,
      PartitionMetadata meta,
      Map<Long, ProducerSnapshot> producers,
      List<AbortedTransaction> aborted) {
    if (meta.owner().isEmpty() || meta.owner().getAsInt() != nodeId) {
      throw new StorageException(
          Kind.NOT_OWNER,
          "partition " + tp + " is owned by " + meta.owner() + ", not node " + nodeId);
    }
    lock.lock();
    try {
      OwnedPartition current = owned.get(tp);
      if (current != null && current.leaderEpoch >= meta.leaderEpoch()) {
        return meta;
      }
      Integer passed = passedOn.get(tp);
      if (passed != null && passed >= meta.leaderEpoch()) {
        throw new StorageException(
            Kind.NOT_OWNER,
            "partition "
                + tp
                + " epoch "
                + meta.leaderEpoch()
                + " was passed on by node "
                + nodeId);
      }
      passedOn.remove(tp);
      OwnedPartition p =
          new OwnedPartition(
              tp,
              meta.leaderEpoch(),
              meta.highWatermark(),
              meta.logStartOffset(),
              takenOverFromAnother(meta, nodeId),
              System.nanoTime());
      producers
          .values()
          .forEach(s -> p.producers.put(s.producerId(), ProducerEntry.fromSnapshot(s)));
      p.indexOpenTransactions();
      aborted.forEach(a -> p.aborted.put(a.lastOffset(), a));
      owned.put(tp, p);
      LOG.info(
          "partition={} epoch={} node={} opened at high watermark {} log start {}",
          tp,
          meta.leaderEpoch(),
          nodeId,
          meta.highWatermark(),
          meta.logStartOffset());
      return meta;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops accepting appends for the partition, waits until everything appended so far is committed,
   * and forgets it. Returns the epoch it was owned at, for a metadata transfer to the next owner.
   */
  public CompletableFuture<OptionalInt> release(TopicPartitionId tp) {
    OwnedPartition p;
    lock.lock();
    try {
      p = owned.get(tp);
      if (p == null) {
        return CompletableFuture.completedFuture(OptionalInt.empty());
      }
      p.releasing = true;
    } finally {
      lock.unlock();
    }
    return wal.flush(tp)
        .thenApply(
            v -> {
              owned.remove(tp, p);
              tailCache.invalidate(tp);
              LOG.info("partition={} epoch={} node={} released", tp, p.leaderEpoch, nodeId);
              return OptionalInt.of(p.leaderEpoch);
            });
  }

  /**
   * Hands an owned partition to {@code newOwner}: release, then one metadata update that bumps the
   * epoch.
   */
  public CompletableFuture<PartitionMetadata> handOver(TopicPartitionId tp, int newOwner) {
    return release(tp)
        .thenCompose(
            epoch -> {
              if (epoch.isEmpty()) {
                return CompletableFuture.failedFuture(
                    new StorageException(
                        Kind.NOT_OWNER, "partition " + tp + " is not owned by node " + nodeId));
              }
              return ownership.transfer(
                  tp, OptionalInt.of(nodeId), epoch.getAsInt(), OptionalInt.of(newOwner), true);
            });
  }

  /**
   * Hands the partition that metadata says this node owns at {@code epoch} to {@code newOwner}. If
   * this node serves it at that epoch, as {@link #handOver(TopicPartitionId, int)}. If it does not
   * serve it yet (its open may still be running: a new broker is given partitions and, moments
   * later, asked to give some to a broker that registered after it), nothing was appended here at
   * that epoch, so one metadata update passes it on: no waiting for the open to finish, and the
   * open is refused when it would start serving.
   */
  public CompletableFuture<PartitionMetadata> handOver(
      TopicPartitionId tp, int epoch, int newOwner) {
    boolean serving;
    lock.lock();
    try {
      OwnedPartition p = owned.get(tp);
      serving = p != null && p.leaderEpoch >= epoch;
      if (!serving) {
        passedOn.merge(tp, epoch, Math::max);
      }
    } finally {
      lock.unlock();
    }
    if (serving) {
      // Outside the lock: the release waits on the WAL, whose commits take this lock.
      return handOver(tp, newOwner);
    }
    return ownership
        .passOn(tp, nodeId, epoch, newOwner)
        .whenComplete(
            (m, t) -> {
              if (t == null) {
                LOG.info(
                    "partition={} epoch={} node={} passed on to node {} before serving it",
                    tp,
                    epoch,
                    nodeId,
                    newOwner);
                return;
              }
              // Still this node's if the update did not happen: a later open may serve it.
              lock.lock();
              try {
                passedOn.remove(tp, epoch);
              } finally {
                lock.unlock();
              }
            });
  }

  /**
   * Forgets every owned partition at once, committing nothing (the broker lost its lease): appends
   * waiting for a reload from metadata — which may be unreachable — fail now rather than when the
   * metadata store's timeouts run out, and later ones find the partition not owned here.
   */
  public void halt() {
    StorageException halted =
        new StorageException(Kind.NOT_OWNER, "node " + nodeId + " stopped serving its partitions");
    lock.lock();
    try {
      for (OwnedPartition p : owned.values()) {
        if (p.reload != null) {
          p.reload.completeExceptionally(halted);
        }
        tailCache.invalidate(p.id);
      }
      owned.clear();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the owned partition holds idempotence state for {@code producerId} (from its own
   * appends, or loaded from metadata when it was opened): if so, its sequence rules order that
   * producer's batches; if not, the producer's first batch is taken at any sequence, except shortly
   * after the partition was taken over (see {@link IdempotenceCheck}).
   */
  public boolean knowsProducer(TopicPartitionId tp, long producerId) {
    lock.lock();
    try {
      OwnedPartition p = owned.get(tp);
      return p != null && p.producers.containsKey(producerId);
    } finally {
      lock.unlock();
    }
  }

  /**
   * The last stable offset of an owned partition (Kafka's LSO): below it every transaction is
   * decided. Empty if this engine does not own the partition.
   */
  public OptionalLong lastStableOffset(TopicPartitionId tp) {
    OwnedPartition p = owned.get(tp);
    return p == null ? OptionalLong.empty() : OptionalLong.of(p.lastStableOffset());
  }

  /**
   * The aborted transactions of an owned partition that overlap [{@code fromOffset}, {@code
   * upperBound}), in marker order, as a read_committed fetch returns them. Empty if this engine
   * does not own the partition.
   */
  public List<AbortedTransaction> abortedTransactions(
      TopicPartitionId tp, long fromOffset, long upperBound) {
    OwnedPartition p = owned.get(tp);
    if (p == null) {
      return List.of();
    }
    List<AbortedTransaction> out = new ArrayList<>(0);
    for (AbortedTransaction a : p.aborted.tailMap(fromOffset, true).values()) {
      if (a.firstOffset() < upperBound) {
        out.add(a);
      }
    }
    return out;
  }

  /**
   * The state of every producer of an owned partition (Kafka's DescribeProducers), including
   * appends not committed yet; empty if this engine does not own the partition.
   */
  public Optional<List<ProducerSnapshot>> producers(TopicPartitionId tp) {
    lock.lock();
    try {
      OwnedPartition p = owned.get(tp);
      if (p == null) {
        return Optional.empty();
      }
      List<ProducerSnapshot> out = new ArrayList<>(p.producers.size());
      p.producers.values().forEach(e -> out.add(e.snapshot()));
      return Optional.of(out);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether {@code producerId} has a transaction open on the owned partition (including one whose
   * first write is not committed yet): its next transactional write continues it.
   */
  public boolean inTransaction(TopicPartitionId tp, long producerId) {
    lock.lock();
    try {
      OwnedPartition p = owned.get(tp);
      ProducerEntry e = p == null ? null : p.producers.get(producerId);
      return e != null && e.txnFirstOffset >= 0;
    } finally {
      lock.unlock();
    }
  }

  public boolean owns(TopicPartitionId tp) {
    return owned.containsKey(tp);
  }

  public List<TopicPartitionId> ownedPartitions() {
    return List.copyOf(owned.keySet());
  }

  /** The owned partition's committed state, or empty if this engine does not own it. */
  public Optional<PartitionMetadata> local(TopicPartitionId tp) {
    OwnedPartition p = owned.get(tp);
    return p == null
        ? Optional.empty()
        : Optional.of(
            new PartitionMetadata(
                tp, OptionalInt.of(nodeId), p.leaderEpoch, p.logStartOffset, p.highWatermark));
  }

  /** Appends record batches to an owned partition at {@code leaderEpoch}. */
  public CompletableFuture<AppendResult> append(
      TopicPartitionId tp, int leaderEpoch, ByteBuffer records, AppendOptions options) {
    return append(tp, leaderEpoch, -1, records, options);
  }

  /**
   * Appends only if the batches would start at {@code expectedBaseOffset}, for a sole writer that
   * built them from state replayed up to that offset (a coordinator). Fails with {@link
   * Kind#NOT_OWNER} when the partition's next offset differs, e.g. because an earlier append of
   * this writer was lost with a failed flush: the writer must reload before writing again.
   */
  public CompletableFuture<AppendResult> appendAt(
      TopicPartitionId tp,
      int leaderEpoch,
      long expectedBaseOffset,
      ByteBuffer records,
      AppendOptions options) {
    if (expectedBaseOffset < 0) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Kind.INVALID_REQUEST, "expected base offset must be >= 0: " + expectedBaseOffset));
    }
    return append(tp, leaderEpoch, expectedBaseOffset, records, options);
  }

  private CompletableFuture<AppendResult> append(
      TopicPartitionId tp,
      int leaderEpoch,
      long expectedBaseOffset,
      ByteBuffer records,
      AppendOptions options) {
    long start = System.nanoTime();
    List<RecordBatchHeader> headers;
    List<ControlRecords.Marker> markers;
    try {
      headers = RecordBatches.validate(records, options.maxBatchBytes());
      markers = markers(records, headers);
    } catch (StorageException e) {
      return CompletableFuture.failedFuture(e);
    }
    OwnedPartition p = owned.get(tp);
    if (p == null) {
      return CompletableFuture.failedFuture(
          new StorageException(Kind.NOT_OWNER, "node " + nodeId + " does not own partition " + tp));
    }
    if (leaderEpoch != p.leaderEpoch) {
      return CompletableFuture.failedFuture(
          leaderEpoch < p.leaderEpoch
              ? new StorageException(
                  Kind.FENCED_EPOCH,
                  "partition "
                      + tp
                      + " epoch "
                      + leaderEpoch
                      + " is older than current epoch "
                      + p.leaderEpoch)
              : new StorageException(
                  Kind.NOT_OWNER,
                  "partition "
                      + tp
                      + " epoch "
                      + leaderEpoch
                      + " is newer than this node's epoch "
                      + p.leaderEpoch));
    }
    lock.lock();
    try {
      if (owned.get(tp) != p || p.releasing) {
        return CompletableFuture.failedFuture(
            new StorageException(
                Kind.NOT_OWNER, "partition " + tp + " is moving away from node " + nodeId));
      }
      if (p.needsReload) {
        return reloadThenAppend(p, leaderEpoch, expectedBaseOffset, records, options);
      }
      if (expectedBaseOffset >= 0 && p.nextOffset != expectedBaseOffset) {
        return CompletableFuture.failedFuture(
            new StorageException(
                Kind.NOT_OWNER,
                "partition "
                    + tp
                    + " continues at offset "
                    + p.nextOffset
                    + ", not at "
                    + expectedBaseOffset
                    + " as its writer expects"));
      }
      if (wal.full(records.remaining())) {
        return CompletableFuture.failedFuture(
            new StorageException(
                Kind.STORAGE_UNAVAILABLE,
                "WAL buffer full: uploads or metadata commits are slow; retry later"));
      }
      IdempotenceCheck.Result check =
          IdempotenceCheck.check(
              p.producers,
              headers,
              markers,
              p.unknownProducersStartAtZero(System.nanoTime()),
              options.fromCoordinator());
      if (check.duplicate().isPresent()) {
        ProducerBatch original = check.duplicate().get().batch();
        LOG.debug(
            "partition={} epoch={} duplicate batch at offset {}",
            tp,
            p.leaderEpoch,
            original.baseOffset());
        return check
            .duplicate()
            .get()
            .committed()
            .thenApply(
                v ->
                    new AppendResult(
                        original.baseOffset(), original.lastOffset(), -1, p.logStartOffset, true));
      }
      PendingAppend pending = sequence(p, headers, markers, records, options, check.staged());
      wal.append(pending, options.fromCoordinator());
      long logAppendTime = options.logAppendTime() ? pending.maxTimestamp() : -1;
      return pending
          .committed()
          .handle(
              (v, t) -> {
                settle(p);
                if (t != null) {
                  throw new java.util.concurrent.CompletionException(StorageException.unwrap(t));
                }
                metrics.appendLatency(Duration.ofNanos(System.nanoTime() - start));
                metrics.bytesIn(pending.size());
                return new AppendResult(
                    pending.baseOffset(),
                    pending.lastOffset(),
                    logAppendTime,
                    p.logStartOffset,
                    false);
              });
    } catch (StorageException e) {
      return CompletableFuture.failedFuture(e);
    } finally {
      lock.unlock();
    }
  }

  /** The transaction marker of each control batch, by position; no list if there is none. */
  private static List<ControlRecords.Marker> markers(
      ByteBuffer records, List<RecordBatchHeader> headers) {
    List<ControlRecords.Marker> out = null;
    for (int i = 0; i < headers.size(); i++) {
      RecordBatchHeader h = headers.get(i);
      if (h.isControl()) {
        if (out == null) {
          out = new ArrayList<>(java.util.Collections.nCopies(headers.size(), null));
        }
        out.set(i, ControlRecords.marker(records, h).orElse(null));
      }
    }
    return out == null ? List.of() : out;
  }

  /**
   * Assigns offsets, stamps the batches and installs the producer state, including the transactions
   * the batches open or end. Caller holds the lock.
   */
  private PendingAppend sequence(
      OwnedPartition p,
      List<RecordBatchHeader> headers,
      List<ControlRecords.Marker> markers,
      ByteBuffer records,
      AppendOptions options,
      Map<Long, ProducerEntry> staged) {
    // A buffer not given to the log may be reused by its writer once we return: copy it. A produce
    // request's own buffer is stamped in place (the copy was a fifth of the produce path's CPU).
    ByteBuffer data = options.keepsBuffer() ? records.slice() : copyOf(records);
    int shift = -records.position();
    long next = p.nextOffset;
    long now = System.currentTimeMillis();
    long maxTimestamp = -1;
    CompletableFuture<Void> committed = new CompletableFuture<>();
    staged.values().forEach(e -> e.recent.removeIf(r -> r.committed() == null));
    List<AbortedTransaction> aborted = new ArrayList<>(0);
    for (int i = 0; i < headers.size(); i++) {
      RecordBatchHeader h = headers.get(i);
      int pos = h.position() + shift;
      RecordBatches.stampOffsetAndEpoch(data, pos, next, p.leaderEpoch);
      long batchMax = h.maxTimestamp();
      if (options.logAppendTime()) {
        RecordBatches.stampLogAppendTime(data, pos, h.sizeInBytes(), now);
        batchMax = now;
      }
      maxTimestamp = Math.max(maxTimestamp, batchMax);
      long last = next + h.lastOffsetDelta();
      if (h.hasProducerId()) {
        ProducerEntry e = staged.get(h.producerId());
        e.lastTimestamp = batchMax;
        if (h.isControl()) {
          endTransaction(p, e, markers.get(i), next).ifPresent(aborted::add);
        } else {
          if (!options.fromCoordinator()) {
            e.add(new ProducerBatch(h.baseSequence(), h.lastSequence(), next, last), committed);
          }
          if (h.isTransactional() && e.txnFirstOffset < 0) {
            e.txnFirstOffset = next;
            p.openTransactions.put(next, e.producerId);
          }
        }
      }
      next = last + 1;
    }
    List<ProducerSnapshot> snapshots = new ArrayList<>(staged.size());
    for (ProducerEntry e : staged.values()) {
      p.producers.put(e.producerId, e);
      snapshots.add(e.snapshot());
    }
    long base = p.nextOffset;
    p.nextOffset = next;
    p.pendingAppends++;
    return new PendingAppend(
        p.id,
        p.leaderEpoch,
        data,
        base,
        next - 1,
        maxTimestamp,
        headers.size(),
        snapshots,
        aborted,
        committed);
  }

  /**
   * A marker at {@code offset} ends the producer's transaction on the partition (if one is open: a
   * marker for a transaction that wrote nothing here changes nothing but the coordinator epoch).
   * The transaction holds the last stable offset back until the marker is committed. Returns the
   * aborted-index entry an ABORT adds.
   */
  private static Optional<AbortedTransaction> endTransaction(
      OwnedPartition p, ProducerEntry e, ControlRecords.Marker marker, long offset) {
    e.coordinatorEpoch = marker.coordinatorEpoch();
    long first = e.txnFirstOffset;
    if (first < 0) {
      return Optional.empty();
    }
    e.txnFirstOffset = -1;
    p.pendingEnds.put(
        offset, new OwnedPartition.EndedTransaction(e.producerId, first, offset, marker.commit()));
    return marker.commit()
        ? Optional.empty()
        : Optional.of(new AbortedTransaction(e.producerId, first, offset));
  }

  private void settle(OwnedPartition p) {
    lock.lock();
    try {
      p.pendingAppends--;
    } finally {
      lock.unlock();
    }
  }

  /**
   * After a failed flush: once nothing of this partition is in flight, reload its committed state
   * (high watermark, producer state) and retry the append. Caller holds the lock.
   */
  private CompletableFuture<AppendResult> reloadThenAppend(
      OwnedPartition p,
      int leaderEpoch,
      long expectedBaseOffset,
      ByteBuffer records,
      AppendOptions options) {
    if (p.pendingAppends > 0) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Kind.STORAGE_UNAVAILABLE,
              "partition " + p.id + " is recovering from a failed WAL flush; retry"));
    }
    CompletableFuture<Void> reload = p.reload;
    if (reload == null) {
      reload =
          ownership
              .describe(p.id)
              .thenCombine(
                  producerStates.load(p.id),
                  (meta, producers) -> {
                    reloaded(p, meta, producers);
                    return (Void) null;
                  });
      // Assigned before the callback is attached, which may run (and clear it) right here if the
      // reload is already complete; hence the local variable below, never p.reload.
      p.reload = reload;
      CompletableFuture<Void> started = reload;
      reload.whenComplete((v, t) -> clearReload(p, started));
    }
    // The append runs after the reload, when a writer may have reused a buffer it kept: the copy
    // taken now is the log's own, so the append does not copy it again.
    ByteBuffer kept = options.keepsBuffer() ? records : copyOf(records);
    return reload.thenCompose(
        v -> append(p.id, leaderEpoch, expectedBaseOffset, kept, options.keepingBuffer()));
  }

  private static ByteBuffer copyOf(ByteBuffer records) {
    ByteBuffer copy = ByteBuffer.allocate(records.remaining());
    copy.put(records.duplicate()).flip();
    return copy;
  }

  private void clearReload(OwnedPartition p, CompletableFuture<Void> reload) {
    lock.lock();
    try {
      if (p.reload == reload) {
        p.reload = null;
      }
    } finally {
      lock.unlock();
    }
  }

  private void reloaded(
      OwnedPartition p, PartitionMetadata meta, Map<Long, ProducerSnapshot> producers) {
    lock.lock();
    try {
      if (meta.owner().orElse(-1) != nodeId || meta.leaderEpoch() != p.leaderEpoch) {
        owned.remove(p.id, p);
        tailCache.invalidate(p.id);
        throw new StorageException(
            Kind.NOT_OWNER,
            "partition "
                + p.id
                + " moved to node "
                + meta.owner()
                + " epoch "
                + meta.leaderEpoch());
      }
      p.nextOffset = meta.highWatermark();
      p.highWatermark = meta.highWatermark();
      p.logStartOffset = meta.logStartOffset();
      p.producers.clear();
      producers
          .values()
          .forEach(s -> p.producers.put(s.producerId(), ProducerEntry.fromSnapshot(s)));
      p.indexOpenTransactions();
      p.needsReload = false;
      LOG.info(
          "partition={} epoch={} reloaded at high watermark {}",
          p.id,
          p.leaderEpoch,
          p.highWatermark);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void committed(TopicPartitionId tp, int leaderEpoch, IndexEntry entry, ByteBuffer chunk) {
    OwnedPartition p = owned.get(tp);
    if (p == null || p.leaderEpoch != leaderEpoch) {
      return;
    }
    long hw = entry.lastOffset() + 1;
    if (hw > p.highWatermark) {
      // Before the high watermark moves: a reader woken by it sees the decided transactions.
      p.markersCommitted(hw);
      tailCache.put(tp, entry, chunk);
      p.highWatermark = hw;
      highWatermarkListeners.forEach(l -> l.accept(tp, hw));
    }
  }

  @Override
  public void stored(TopicPartitionId tp, int leaderEpoch, IndexEntry entry, ByteBuffer chunk) {
    OwnedPartition p = owned.get(tp);
    if (p != null && p.leaderEpoch == leaderEpoch) {
      // Compaction looks cached bytes up by their place in object storage; left under the volume
      // WAL's name, every merge read back from the store what the cache still held.
      tailCache.relocate(tp, entry, chunk);
    }
  }

  @Override
  public void failed(TopicPartitionId tp, int leaderEpoch, CommitOutcome outcome, Throwable cause) {
    lock.lock();
    try {
      OwnedPartition p = owned.get(tp);
      if (p == null || p.leaderEpoch != leaderEpoch) {
        return;
      }
      if (outcome == CommitOutcome.FENCED || outcome == CommitOutcome.UNKNOWN) {
        owned.remove(tp, p);
        tailCache.invalidate(tp);
        LOG.warn("partition={} epoch={} node={} dropped: {}", tp, leaderEpoch, nodeId, outcome);
      } else {
        p.needsReload = true;
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Moves the log start offset of an owned partition forward (DeleteRecords); returns the new log
   * start offset.
   */
  public CompletableFuture<Long> deleteRecordsBefore(
      TopicPartitionId tp, int leaderEpoch, long offset, LogBounds bounds) {
    OwnedPartition p = owned.get(tp);
    if (p == null || p.leaderEpoch != leaderEpoch) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Kind.NOT_OWNER,
              "node " + nodeId + " does not own " + tp + " at epoch " + leaderEpoch));
    }
    long target = offset < 0 ? p.highWatermark : offset;
    if (target > p.highWatermark) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Kind.OFFSET_OUT_OF_RANGE,
              "cannot delete records before "
                  + target
                  + ": high watermark of "
                  + tp
                  + " is "
                  + p.highWatermark));
    }
    return bounds
        .advanceLogStartOffset(tp, nodeId, leaderEpoch, target)
        .thenApply(
            lso -> {
              p.logStartOffset = Math.max(p.logStartOffset, lso);
              return p.logStartOffset;
            });
  }
}
