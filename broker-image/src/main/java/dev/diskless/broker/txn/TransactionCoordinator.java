package dev.diskless.broker.txn;

import dev.diskless.storage.CrashPoints;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.ProducerIds;
import dev.diskless.storage.metadata.TransactionRecord;
import dev.diskless.storage.metadata.TransactionStore;
import dev.diskless.storage.metrics.StorageMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.coordinator.transaction.TransactionMetadata;
import org.apache.kafka.coordinator.transaction.TransactionState;
import org.apache.kafka.coordinator.transaction.TxnTransitMetadata;
import org.apache.kafka.server.common.TransactionVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator (transactions version 1): InitProducerId with a transactional id,
 * AddPartitionsToTxn, AddOffsetsToTxn and EndTxn, with Kafka's state machine ({@link
 * TransactionMetadata}) and Kafka's answers ({@code TransactionCoordinator.scala}); transaction
 * timeouts and the expiry of idle transactional ids.
 *
 * <p>Whoever owns the {@code __transaction_state} partition an id hashes onto is its coordinator,
 * and the partition's leader epoch is the coordinator epoch. State lives in PostgreSQL ({@link
 * TransactionStore}), read and written per request, each write fenced by that partition's owner and
 * epoch: a coordinator that lost the partition writes nothing, and its successor reads the state
 * without replaying anything. Requests for one id are handled one at a time. After PrepareCommit or
 * PrepareAbort is durable the markers are written ({@link TransactionMarkers}); once all are, the
 * state moves to CompleteCommit or CompleteAbort. A new coordinator finishes the prepared
 * transactions it finds, and aborts the ongoing ones whose timeout has passed.
 */
public final class TransactionCoordinator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TransactionCoordinator.class);

  /** The answer to InitProducerId. */
  public record InitResult(Errors error, long producerId, short producerEpoch) {
    static InitResult failed(Errors error) {
      return new InitResult(error, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH);
    }
  }

  private final int nodeId;
  private final TransactionTopic topic;
  private final TransactionStore store;
  private final ProducerIds producerIds;
  private final StorageEngine engine;
  private final TransactionMarkers markers;
  private final TransactionCoordinatorConfig config;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("transaction-coordinator-timer").daemon().factory());

  /**
   * How long AddPartitionsToTxn waits for this broker to finish writing the previous transaction's
   * markers (normally one WAL flush) before answering CONCURRENT_TRANSACTIONS as Kafka does.
   */
  static final long COMPLETION_WAIT_MS = 1_000;

  /** The gate of the last operation queued per transactional id: the next one starts after it. */
  private final Map<String, CompletableFuture<?>> tails = new ConcurrentHashMap<>();

  /**
   * Transactional ids whose markers are being written by this broker, each with what completes when
   * that completion ends (written and recorded, or given up).
   */
  private final Map<String, CompletableFuture<Void>> completing = new ConcurrentHashMap<>();

  /** The coordinator partitions this broker served at the last reconcile, with their epochs. */
  private final Map<Integer, Integer> elected = new ConcurrentHashMap<>();

  /**
   * Coordinator partitions that may hold transactional ids: found with some when this broker became
   * their coordinator, or written to since. Only these are swept (a cluster without transactions
   * costs no query every interval). Never shrinks: a sweep finding none may race a first write.
   */
  private final Set<Integer> holdingIds = ConcurrentHashMap.newKeySet();

  private final StorageMetrics metrics;
  private final MeterRegistry meters;
  private volatile boolean closed;

  TransactionCoordinator(
      int nodeId,
      TransactionTopic topic,
      TransactionStore store,
      ProducerIds producerIds,
      StorageEngine engine,
      TransactionMarkers markers,
      TransactionCoordinatorConfig config,
      StorageMetrics metrics) {
    this.metrics = metrics;
    this.meters = metrics.registry();
    this.nodeId = nodeId;
    this.topic = topic;
    this.store = store;
    this.producerIds = producerIds;
    this.engine = engine;
    this.markers = markers;
    this.config = config;
  }

  void start() {
    // Through StorageMetrics: after a rejoin the gauges must read the new coordinator.
    metrics.gauge("diskless.transactions.completing", completing::size);
    metrics.gauge("diskless.transactions.coordinator.partitions", elected::size);
    long every = config.abortTimedOutIntervalMs();
    timer.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
  }

  public TransactionTopic topic() {
    return topic;
  }

  /** The coordinator epoch of the partition an id hashes onto, if this broker serves it. */
  private OptionalInt coordinatorEpoch(int partition) {
    Optional<PartitionMetadata> local = engine.logs().local(topic.partition(partition));
    return local.isPresent() ? OptionalInt.of(local.get().leaderEpoch()) : OptionalInt.empty();
  }

  /** Whether this broker coordinates {@code transactionalId} now. */
  public boolean coordinates(String transactionalId) {
    return coordinatorEpoch(topic.partitionFor(transactionalId)).isPresent();
  }

  // ---- InitProducerId ----

  public CompletableFuture<InitResult> initProducerId(
      String transactionalId, int timeoutMs, long expectedProducerId, short expectedEpoch) {
    if (transactionalId.isEmpty()) {
      return CompletableFuture.completedFuture(InitResult.failed(Errors.INVALID_REQUEST));
    }
    if (timeoutMs <= 0 || timeoutMs > config.maxTimeoutMs()) {
      return CompletableFuture.completedFuture(
          InitResult.failed(Errors.INVALID_TRANSACTION_TIMEOUT));
    }
    int partition = topic.partitionFor(transactionalId);
    OptionalInt epoch = coordinatorEpoch(partition);
    if (epoch.isEmpty()) {
      return CompletableFuture.completedFuture(InitResult.failed(Errors.NOT_COORDINATOR));
    }
    int coordinatorEpoch = epoch.getAsInt();
    boolean expected = expectedProducerId != RecordBatch.NO_PRODUCER_ID;
    return serially(
            transactionalId,
            () ->
                store
                    .get(transactionalId)
                    .thenCompose(
                        row ->
                            row.isPresent()
                                ? CompletableFuture.completedFuture(metadata(row.get()))
                                : producerIds
                                    .next()
                                    .thenApply(
                                        pid ->
                                            new TransactionMetadata(
                                                transactionalId,
                                                pid,
                                                RecordBatch.NO_PRODUCER_ID,
                                                RecordBatch.NO_PRODUCER_ID,
                                                RecordBatch.NO_PRODUCER_EPOCH,
                                                RecordBatch.NO_PRODUCER_EPOCH,
                                                timeoutMs,
                                                TransactionState.EMPTY,
                                                new HashSet<>(),
                                                -1,
                                                System.currentTimeMillis(),
                                                TransactionVersion.TV_0)))
                    .thenCompose(
                        md -> {
                          if (expected
                              && !(md.producerEpoch() == RecordBatch.NO_PRODUCER_EPOCH
                                  || expectedProducerId == md.producerId()
                                  || (expectedProducerId == md.prevProducerId()
                                      && TransactionMetadata.isEpochExhausted(expectedEpoch)))) {
                            return done(InitResult.failed(Errors.PRODUCER_FENCED));
                          }
                          return init(
                              md,
                              partition,
                              coordinatorEpoch,
                              timeoutMs,
                              expected ? Optional.of(expectedEpoch) : Optional.empty());
                        }))
        .exceptionally(t -> InitResult.failed(errorOf(t)));
  }

  private CompletableFuture<InitResult> init(
      TransactionMetadata md,
      int partition,
      int coordinatorEpoch,
      int timeoutMs,
      Optional<Short> expectedEpoch) {
    long now = System.currentTimeMillis();
    TransactionState state = md.state();
    if (state == TransactionState.PREPARE_ABORT || state == TransactionState.PREPARE_COMMIT) {
      resume(md, partition, coordinatorEpoch);
      return done(InitResult.failed(Errors.CONCURRENT_TRANSACTIONS));
    }
    if (state == TransactionState.ONGOING) {
      // As Kafka: fence the producer with a bumped epoch, abort its transaction at that epoch, and
      // let the client retry, which bumps the epoch once more.
      return fenceAndAbort(md, partition, coordinatorEpoch)
          .thenApply(v -> InitResult.failed(Errors.CONCURRENT_TRANSACTIONS));
    }
    if (state != TransactionState.EMPTY
        && state != TransactionState.COMPLETE_ABORT
        && state != TransactionState.COMPLETE_COMMIT) {
      throw new IllegalStateException(md.transactionalId() + " is in state " + state);
    }
    CompletableFuture<TxnTransitMetadata> transit;
    if (md.isProducerEpochExhausted()
        && expectedEpoch.map(e -> e == md.producerEpoch()).orElse(true)) {
      transit =
          producerIds
              .next()
              .thenApply(
                  pid ->
                      md.prepareProducerIdRotation(pid, timeoutMs, now, expectedEpoch.isPresent()));
    } else {
      transit =
          CompletableFuture.completedFuture(
              md.prepareIncrementProducerEpoch(timeoutMs, expectedEpoch, now));
    }
    return transit.thenCompose(
        t ->
            put(md.transactionalId(), partition, coordinatorEpoch, t)
                .thenApply(
                    v -> {
                      LOG.info(
                          "transactional_id={} producer={} epoch={} initialized by coordinator"
                              + " partition={}-{} coordinator_epoch={}",
                          md.transactionalId(),
                          t.producerId(),
                          t.producerEpoch(),
                          TransactionTopic.NAME,
                          partition,
                          coordinatorEpoch);
                      return new InitResult(Errors.NONE, t.producerId(), t.producerEpoch());
                    }));
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ----

  /**
   * Adds partitions to the producer's transaction; one error for all of them, as Kafka. A producer
   * that starts its next transaction while this broker is still writing the previous one's markers
   * is answered once they are written, up to {@link #COMPLETION_WAIT_MS}, instead of at once with
   * CONCURRENT_TRANSACTIONS: its client would retry only after a 20 ms backoff, and on the object
   * WAL the markers take about one flush (20–30 ms), so every short transaction (Kafka Streams
   * commits every 100 ms with exactly-once) paid one or two backoffs. Past the wait, or when
   * another broker completes it, the answer is Kafka's.
   */
  public CompletableFuture<Errors> addPartitions(
      String transactionalId,
      long producerId,
      short producerEpoch,
      Set<TopicPartition> partitions) {
    return add(transactionalId, producerId, producerEpoch, partitions)
        .thenCompose(
            error -> {
              CompletableFuture<Void> ending =
                  error == Errors.CONCURRENT_TRANSACTIONS ? completing.get(transactionalId) : null;
              if (ending == null) {
                return done(error);
              }
              // A copy: the time-out must not end the completion's own future for other waiters.
              return ending
                  .copy()
                  .completeOnTimeout(null, COMPLETION_WAIT_MS, TimeUnit.MILLISECONDS)
                  .thenCompose(v -> add(transactionalId, producerId, producerEpoch, partitions))
                  .thenApply(
                      after -> {
                        Counter.builder("diskless.transactions.add.held")
                            .description(
                                "AddPartitionsToTxn held until the previous transaction's markers"
                                    + " were written: answered then, or still completing")
                            .tag(
                                "outcome",
                                after == Errors.CONCURRENT_TRANSACTIONS
                                    ? "still-completing"
                                    : "answered")
                            .register(meters)
                            .increment();
                        return after;
                      });
            });
  }

  private CompletableFuture<Errors> add(
      String transactionalId,
      long producerId,
      short producerEpoch,
      Set<TopicPartition> partitions) {
    return withProducer(
        transactionalId,
        producerId,
        producerEpoch,
        (md, partition, coordinatorEpoch) -> {
          if (md.state() == TransactionState.PREPARE_COMMIT
              || md.state() == TransactionState.PREPARE_ABORT) {
            resume(md, partition, coordinatorEpoch);
            return done(Errors.CONCURRENT_TRANSACTIONS);
          }
          if (md.state() == TransactionState.ONGOING
              && md.topicPartitions().containsAll(partitions)) {
            return done(Errors.NONE);
          }
          TxnTransitMetadata t =
              md.prepareAddPartitions(
                  partitions, System.currentTimeMillis(), TransactionVersion.TV_0);
          return put(transactionalId, partition, coordinatorEpoch, t).thenApply(v -> Errors.NONE);
        });
  }

  /** An operation on the state of the producer that holds a transactional id now. */
  @FunctionalInterface
  private interface ProducerOp {
    CompletableFuture<Errors> apply(TransactionMetadata md, int partition, int coordinatorEpoch);
  }

  /**
   * Runs {@code op} on the state of {@code transactionalId}, after the id's earlier operations, if
   * this broker coordinates it and {@code producerId} at {@code producerEpoch} holds it; otherwise
   * Kafka's answer: INVALID_REQUEST, NOT_COORDINATOR, INVALID_PRODUCER_ID_MAPPING or
   * PRODUCER_FENCED (transactions version 1: a client never bumps its own epoch, so only the
   * current one is valid).
   */
  private CompletableFuture<Errors> withProducer(
      String transactionalId, long producerId, short producerEpoch, ProducerOp op) {
    if (transactionalId == null || transactionalId.isEmpty()) {
      return done(Errors.INVALID_REQUEST);
    }
    int partition = topic.partitionFor(transactionalId);
    OptionalInt epoch = coordinatorEpoch(partition);
    if (epoch.isEmpty()) {
      return done(Errors.NOT_COORDINATOR);
    }
    return serially(
            transactionalId,
            () ->
                store
                    .get(transactionalId)
                    .thenCompose(
                        row -> {
                          if (row.isEmpty() || row.get().producerId() != producerId) {
                            return done(Errors.INVALID_PRODUCER_ID_MAPPING);
                          }
                          TransactionMetadata md = metadata(row.get());
                          if (md.producerEpoch() != producerEpoch) {
                            return done(Errors.PRODUCER_FENCED);
                          }
                          return op.apply(md, partition, epoch.getAsInt());
                        }))
        .exceptionally(TransactionCoordinator::errorOf);
  }

  // ---- DescribeTransactions / ListTransactions ----

  /**
   * The state of {@code transactionalId} if this broker coordinates it: NOT_COORDINATOR if not,
   * TRANSACTIONAL_ID_NOT_FOUND if it has no state.
   */
  public CompletableFuture<Result<TransactionRecord>> describe(String transactionalId) {
    if (transactionalId == null || transactionalId.isEmpty()) {
      return done(Result.failed(Errors.INVALID_REQUEST));
    }
    if (!coordinates(transactionalId)) {
      return done(Result.failed(Errors.NOT_COORDINATOR));
    }
    return store
        .get(transactionalId)
        .thenApply(
            row ->
                row.map(Result::of)
                    .orElseGet(() -> Result.failed(Errors.TRANSACTIONAL_ID_NOT_FOUND)))
        .exceptionally(t -> Result.failed(errorOf(t)));
  }

  /** The transactions of the coordinator partitions this broker serves (ListTransactions). */
  public CompletableFuture<List<TransactionRecord>> list() {
    return store
        .all()
        .thenApply(
            rows ->
                rows.stream()
                    .filter(r -> coordinatorEpoch(r.coordinatorPartition()).isPresent())
                    .toList());
  }

  /** A value, or the error that stands in for it. */
  public record Result<T>(Errors error, T value) {
    static <T> Result<T> of(T value) {
      return new Result<>(Errors.NONE, value);
    }

    static <T> Result<T> failed(Errors error) {
      return new Result<>(error, null);
    }
  }

  // ---- EndTxn ----

  public CompletableFuture<Errors> endTxn(
      String transactionalId, long producerId, short producerEpoch, boolean commit) {
    return withProducer(
        transactionalId,
        producerId,
        producerEpoch,
        (md, partition, coordinatorEpoch) -> end(md, partition, coordinatorEpoch, commit));
  }

  private CompletableFuture<Errors> end(
      TransactionMetadata md, int partition, int coordinatorEpoch, boolean commit) {
    TransactionState prepared =
        commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
    TransactionState completed =
        commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
    TransactionState state = md.state();
    if (state == TransactionState.ONGOING) {
      TxnTransitMetadata t =
          md.prepareAbortOrCommit(
              prepared,
              TransactionVersion.TV_0,
              RecordBatch.NO_PRODUCER_ID,
              System.currentTimeMillis(),
              false);
      return put(md.transactionalId(), partition, coordinatorEpoch, t)
          .thenApply(
              v -> {
                LOG.info(
                    "transactional_id={} producer={} epoch={} {} on {} partitions",
                    md.transactionalId(),
                    t.producerId(),
                    t.producerEpoch(),
                    t.txnState().stateName(),
                    t.topicPartitions().size());
                engine.crashPoints().reach(CrashPoints.TRANSACTION_AFTER_PREPARE);
                complete(md.transactionalId(), partition, coordinatorEpoch, t);
                return Errors.NONE;
              });
    }
    if (state == completed) {
      return done(Errors.NONE);
    }
    if (state == prepared) {
      resume(md, partition, coordinatorEpoch);
      return done(Errors.CONCURRENT_TRANSACTIONS);
    }
    LOG.debug(
        "transactional_id={} is {} but EndTxn asked to {}",
        md.transactionalId(),
        state,
        commit ? "commit" : "abort");
    return done(Errors.INVALID_TXN_STATE);
  }

  /** Bumps the producer's epoch (fencing it) and aborts its ongoing transaction at that epoch. */
  private CompletableFuture<Void> fenceAndAbort(
      TransactionMetadata md, int partition, int coordinatorEpoch) {
    TxnTransitMetadata fence = md.prepareFenceProducerEpoch();
    TransactionMetadata fenced = metadata(record(md.transactionalId(), partition, md));
    fenced.setProducerEpoch(fence.producerEpoch());
    fenced.setLastProducerEpoch(RecordBatch.NO_PRODUCER_EPOCH);
    TxnTransitMetadata t =
        fenced.prepareAbortOrCommit(
            TransactionState.PREPARE_ABORT,
            TransactionVersion.TV_0,
            RecordBatch.NO_PRODUCER_ID,
            System.currentTimeMillis(),
            false);
    return put(md.transactionalId(), partition, coordinatorEpoch, t)
        .thenRun(
            () -> {
              LOG.info(
                  "transactional_id={} producer={} fenced at epoch {}: its transaction is aborted",
                  md.transactionalId(),
                  t.producerId(),
                  t.producerEpoch());
              complete(md.transactionalId(), partition, coordinatorEpoch, t);
            });
  }

  // ---- markers and completion ----

  /** Finishes a transaction found prepared (after a failover, or a completion that failed). */
  private void resume(TransactionMetadata md, int partition, int coordinatorEpoch) {
    complete(md.transactionalId(), partition, coordinatorEpoch, md.prepareNoTransit());
  }

  /**
   * Writes the markers of a prepared transaction, then records it complete; at most one completion
   * per id runs on this broker.
   */
  private void complete(
      String transactionalId, int partition, int coordinatorEpoch, TxnTransitMetadata prepared) {
    CompletableFuture<Void> ended = new CompletableFuture<>();
    if (completing.putIfAbsent(transactionalId, ended) != null) {
      return;
    }
    boolean commit = prepared.txnState() == TransactionState.PREPARE_COMMIT;
    Set<TopicPartition> partitions = new HashSet<>(prepared.topicPartitions());
    long started = System.nanoTime();
    markers
        .write(
            transactionalId,
            prepared.producerId(),
            prepared.producerEpoch(),
            coordinatorEpoch,
            commit,
            partitions,
            () -> !closed && coordinatorEpoch(partition).equals(OptionalInt.of(coordinatorEpoch)))
        .thenCompose(
            outcome -> {
              if (outcome != TransactionMarkers.Outcome.WRITTEN) {
                return CompletableFuture.completedFuture(null);
              }
              engine.crashPoints().reach(CrashPoints.TRANSACTION_BEFORE_COMPLETE);
              return serially(
                  transactionalId,
                  () ->
                      store
                          .get(transactionalId)
                          .thenCompose(
                              row -> {
                                if (row.isEmpty()) {
                                  return CompletableFuture.completedFuture(null);
                                }
                                TransactionMetadata md = metadata(row.get());
                                if (md.state() != prepared.txnState()
                                    || md.producerId() != prepared.producerId()
                                    || md.producerEpoch() != prepared.producerEpoch()) {
                                  return CompletableFuture.completedFuture(null);
                                }
                                TxnTransitMetadata t =
                                    md.prepareComplete(System.currentTimeMillis());
                                return put(transactionalId, partition, coordinatorEpoch, t)
                                    .thenRun(() -> completed(commit, partitions.size(), started))
                                    .thenRun(
                                        () ->
                                            LOG.info(
                                                "transactional_id={} producer={} epoch={} {} on"
                                                    + " {} partitions",
                                                transactionalId,
                                                t.producerId(),
                                                t.producerEpoch(),
                                                t.txnState().stateName(),
                                                partitions.size()));
                              }));
            })
        .whenComplete(
            (v, t) -> {
              completing.remove(transactionalId, ended);
              ended.complete(null);
              if (t != null) {
                LOG.warn(
                    "transactional_id={} completion failed, retried by the next sweep: {}",
                    transactionalId,
                    t.toString());
              }
            });
  }

  /**
   * Called when this broker's owned partitions change: finishes the prepared transactions of the
   * coordinator partitions it just became the owner of.
   */
  public void reconcile() {
    if (closed) {
      return;
    }
    for (int p = 0; p < topic.partitions(); p++) {
      OptionalInt epoch = coordinatorEpoch(p);
      Integer before = epoch.isPresent() ? elected.put(p, epoch.getAsInt()) : elected.remove(p);
      if (epoch.isPresent() && (before == null || before != epoch.getAsInt())) {
        LOG.info(
            "partition={}-{} epoch={} node={} becomes transaction coordinator",
            TransactionTopic.NAME,
            p,
            epoch.getAsInt(),
            nodeId);
        int partition = p;
        long since = System.nanoTime();
        timer.execute(
            () -> {
              sweep(partition, false);
              Timer.builder("diskless.transactions.coordinator.load")
                  .description(
                      "From becoming a partition's transaction coordinator to having read its"
                          + " transactions and resumed the prepared ones")
                  .publishPercentileHistogram()
                  .register(meters)
                  .record(Duration.ofNanos(System.nanoTime() - since));
            });
      }
    }
  }

  /**
   * The periodic pass: sweeps every partition this broker coordinates that may hold transactional
   * ids, reading their rows in one query.
   */
  private void sweep() {
    Map<Integer, Integer> epochs = new java.util.TreeMap<>();
    for (int p : holdingIds) {
      OptionalInt epoch = coordinatorEpoch(p);
      if (epoch.isPresent()) {
        epochs.put(p, epoch.getAsInt());
      }
    }
    if (closed || epochs.isEmpty()) {
      return;
    }
    List<TransactionRecord> rows;
    try {
      rows = store.byCoordinatorPartitions(epochs.keySet()).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("{} transaction sweep failed: {}", TransactionTopic.NAME, e.toString());
      return;
    }
    Map<Integer, List<TransactionRecord>> byPartition = new java.util.HashMap<>();
    rows.forEach(
        r -> byPartition.computeIfAbsent(r.coordinatorPartition(), k -> new ArrayList<>()).add(r));
    byPartition.forEach((p, those) -> sweep(p, epochs.get(p), those, true));
  }

  /**
   * Finishes prepared transactions; with {@code timeouts}, also aborts ongoing ones past their
   * timeout (fencing their producer) and forgets ids idle past the expiration.
   */
  private void sweep(int partition, boolean timeouts) {
    OptionalInt epoch = coordinatorEpoch(partition);
    if (closed || epoch.isEmpty()) {
      return;
    }
    List<TransactionRecord> rows;
    try {
      rows = store.byCoordinatorPartition(partition).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Unknown: the periodic pass reads it.
      holdingIds.add(partition);
      LOG.warn(
          "partition={}-{} transaction sweep failed: {}",
          TransactionTopic.NAME,
          partition,
          e.toString());
      return;
    }
    if (!rows.isEmpty()) {
      holdingIds.add(partition);
    }
    sweep(partition, epoch.getAsInt(), rows, timeouts);
  }

  private void sweep(
      int partition, int coordinatorEpoch, List<TransactionRecord> rows, boolean timeouts) {
    long now = System.currentTimeMillis();
    for (TransactionRecord row : rows) {
      String id = row.transactionalId();
      TransactionState state = TransactionState.fromName(row.state()).orElseThrow();
      if (state == TransactionState.PREPARE_COMMIT || state == TransactionState.PREPARE_ABORT) {
        if (!completing.containsKey(id)) {
          serially(
              id,
              () ->
                  store
                      .get(id)
                      .thenAccept(
                          r ->
                              r.filter(x -> x.state().equals(row.state()))
                                  .ifPresent(
                                      x -> resume(metadata(x), partition, coordinatorEpoch))));
        }
      } else if (timeouts
          && state == TransactionState.ONGOING
          && row.txnStartMs() + row.timeoutMs() < now) {
        serially(
            id,
            () ->
                store
                    .get(id)
                    .thenCompose(
                        r -> {
                          if (r.isEmpty()
                              || !r.get().state().equals(TransactionState.ONGOING.stateName())
                              || r.get().txnStartMs() != row.txnStartMs()) {
                            return CompletableFuture.completedFuture(null);
                          }
                          Counter.builder("diskless.transactions.timed.out")
                              .description("Transactions aborted by their coordinator's timeout")
                              .register(meters)
                              .increment();
                          LOG.info(
                              "transactional_id={} producer={} epoch={} timed out after {} ms:"
                                  + " aborting",
                              id,
                              row.producerId(),
                              row.producerEpoch(),
                              row.timeoutMs());
                          return fenceAndAbort(metadata(r.get()), partition, coordinatorEpoch);
                        }));
      } else if (timeouts
          && state.isExpirationAllowed()
          && row.lastUpdateMs() + config.transactionalIdExpirationMs() < now) {
        store
            .expire(id, row.lastUpdateMs(), topic.partition(partition), nodeId, coordinatorEpoch)
            .thenAccept(
                gone -> {
                  if (gone) {
                    LOG.info(
                        "transactional_id={} expired after {} ms idle",
                        id,
                        now - row.lastUpdateMs());
                  }
                });
      }
    }
  }

  // ---- plumbing ----

  /** Counts a completed transaction and times its markers, from the decision to completion. */
  private void completed(boolean commit, int partitions, long startedNanos) {
    String result = commit ? "commit" : "abort";
    Counter.builder("diskless.transactions.completed")
        .description("Transactions this coordinator completed, by result")
        .tag("result", result)
        .register(meters)
        .increment();
    Timer.builder("diskless.transactions.markers")
        .description("From a transaction's decision to its markers on all its partitions")
        .tag("result", result)
        .publishPercentileHistogram()
        .register(meters)
        .record(Duration.ofNanos(System.nanoTime() - startedNanos));
    DistributionSummary.builder("diskless.transactions.partitions")
        .description("Partitions per completed transaction")
        .register(meters)
        .record(partitions);
  }

  /**
   * Runs {@code op} after every operation queued before it for the same id. The op runs outside any
   * lock (it may complete on the calling thread): each operation leaves a gate the next one waits
   * for, swapped in atomically.
   */
  private <T> CompletableFuture<T> serially(String id, Supplier<CompletableFuture<T>> op) {
    CompletableFuture<Void> gate = new CompletableFuture<>();
    CompletableFuture<?> previous = tails.put(id, gate);
    CompletableFuture<T> result =
        (previous == null ? CompletableFuture.completedFuture(null) : previous)
            .handle((v, t) -> null)
            .thenCompose(v -> op.get());
    result.whenComplete(
        (v, t) -> {
          tails.remove(id, gate);
          gate.complete(null);
        });
    return result;
  }

  private CompletableFuture<Void> put(
      String transactionalId, int partition, int coordinatorEpoch, TxnTransitMetadata t) {
    holdingIds.add(partition);
    return store.put(
        record(transactionalId, partition, t),
        topic.partition(partition),
        nodeId,
        coordinatorEpoch);
  }

  private static <T> CompletableFuture<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  /** The error a client gets when an operation failed underneath. */
  private static Errors errorOf(Throwable t) {
    Throwable cause = StorageException.unwrap(t);
    if (cause instanceof ApiException) {
      return Errors.forException(cause);
    }
    if (cause instanceof StorageException se && se.kind() == StorageException.Kind.NOT_OWNER) {
      return Errors.NOT_COORDINATOR;
    }
    if (cause instanceof StorageException) {
      return Errors.COORDINATOR_NOT_AVAILABLE;
    }
    LOG.warn("transaction coordinator operation failed", cause);
    return Errors.COORDINATOR_NOT_AVAILABLE;
  }

  static TransactionMetadata metadata(TransactionRecord r) {
    Set<TopicPartition> partitions = new HashSet<>();
    r.partitions().forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
    return new TransactionMetadata(
        r.transactionalId(),
        r.producerId(),
        r.prevProducerId(),
        r.nextProducerId(),
        r.producerEpoch(),
        r.lastProducerEpoch(),
        r.timeoutMs(),
        TransactionState.fromName(r.state())
            .orElseThrow(() -> new IllegalStateException("unknown transaction state " + r.state())),
        partitions,
        r.txnStartMs(),
        r.lastUpdateMs(),
        TransactionVersion.fromFeatureLevel(r.clientTransactionVersion()));
  }

  private static TransactionRecord record(
      String transactionalId, int partition, TxnTransitMetadata t) {
    List<TransactionRecord.Partition> partitions = new ArrayList<>();
    t.topicPartitions()
        .forEach(tp -> partitions.add(new TransactionRecord.Partition(tp.topic(), tp.partition())));
    return new TransactionRecord(
        transactionalId,
        partition,
        t.producerId(),
        t.prevProducerId(),
        t.nextProducerId(),
        t.producerEpoch(),
        t.lastProducerEpoch(),
        t.txnTimeoutMs(),
        t.txnState().stateName(),
        partitions,
        t.txnStartTimestamp(),
        t.txnLastUpdateTimestamp(),
        t.clientTransactionVersion().featureLevel());
  }

  private static TransactionRecord record(
      String transactionalId, int partition, TransactionMetadata md) {
    return record(transactionalId, partition, md.prepareNoTransit());
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
  }
}
