package dev.diskless.storage.wal;

import dev.diskless.storage.CrashPoints;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.AbortedTransaction;
import dev.diskless.storage.metadata.CommitOutcome;
import dev.diskless.storage.metadata.FlushCommitter;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.PartitionCommit;
import dev.diskless.storage.metadata.ProducerSnapshot;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The object write-ahead log: appends of many partitions are buffered and flushed as one object
 * when the buffer reaches {@link WalConfig#maxObjectBytes()} or {@link WalConfig#maxAge()}, or,
 * while the input is light ({@link WalConfig#groupCommitMaxBytesPerSecond()}) or the buffer holds
 * {@link WalConfig#groupCommitMinBytes()}, as soon as the previous flush has committed and the PUT
 * cost cap allows (group commit: a lone append then waits one upload, not the whole age bound,
 * while a busy WAL still writes objects large enough to keep the cost per GB low). Each flush is
 * one PUT followed by one metadata transaction; uploads run in parallel up to {@link
 * WalConfig#maxInFlightFlushes()}, but commits run strictly in flush order, which with the
 * high-watermark check of {@link FlushCommitter} keeps offsets dense when a flush fails. An append
 * is acknowledged (its future completes) only after its flush committed: invariant D1.
 */
public final class ObjectWal implements WriteAheadLog {

  private static final Logger LOG = LoggerFactory.getLogger(ObjectWal.class);

  /** The time constant of the input-rate estimate that chooses group commit. */
  private static final double RATE_WINDOW_NANOS = 1e9;

  /**
   * How long group commit waits for open holds: a produce request's appends take well under a
   * millisecond once warm, and requests that keep overlapping must not hold a flush back for long.
   */
  private static final long MAX_HOLD_NANOS = 5_000_000L;

  private final WalConfig config;
  private final ObjectStore objectStore;
  private final FlushCommitter committer;
  private final CommitListener listener;
  private final StorageMetrics metrics;
  private final int nodeId;
  private final ExecutorService workers =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("wal-flush-", 0).factory());
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("wal-timer").daemon().factory());

  private final ReentrantLock lock = new ReentrantLock();
  // Guarded by lock.
  private List<PendingAppend> buffer = new ArrayList<>();
  private long bufferBytes;
  private long bufferStartNanos;
  private long unflushedBytes;
  private int inFlight;
  // Bytes appended, decayed with RATE_WINDOW_NANOS: about the input rate per second.
  private double recentBytes;
  private long recentAtNanos = System.nanoTime();
  private long nextGroupCommitNanos;
  private boolean groupCommitArmed;
  private boolean urgentBuffered;
  // Open holds, and whether (since when) group commit waits for them.
  private int holds;
  private boolean heldBack;
  private long heldBackSinceNanos;
  private boolean holdTimerArmed;
  private CompletableFuture<Void> lastCommit = CompletableFuture.completedFuture(null);
  private boolean closed;
  private final CrashPoints crashPoints;

  public ObjectWal(
      WalConfig config,
      ObjectStore objectStore,
      FlushCommitter committer,
      CommitListener listener,
      StorageMetrics metrics,
      int nodeId,
      CrashPoints crashPoints) {
    this.crashPoints = crashPoints;
    this.config = config;
    this.objectStore = objectStore;
    this.committer = committer;
    this.listener = listener;
    this.metrics = metrics;
    this.nodeId = nodeId;
    metrics.gauge("diskless.wal.unflushed.bytes", () -> unflushedBytes);
  }

  /**
   * Adds an append to the current buffer. Must be called in offset order per partition (the
   * caller's sequencer lock ensures it). Fails the append at once, with a retriable error, when the
   * WAL holds too many bytes.
   */
  @Override
  public void append(PendingAppend append) {
    append(append, false);
  }

  /**
   * {@code urgent} (a coordinator's write, which a transaction's completion or a group's progress
   * waits on) makes the buffer eligible for group commit whatever the input rate and size.
   */
  @Override
  public void append(PendingAppend append, boolean urgent) {
    lock.lock();
    try {
      if (closed) {
        StorageException error =
            new StorageException(Kind.NOT_OWNER, "the WAL is closed: the broker is shutting down");
        // Offsets were assigned to this append: the partition must reload before it appends again.
        safely(() -> listener.failed(append.partition(), append.leaderEpoch(), null, error));
        append.committed().completeExceptionally(error);
        return;
      }
      if (unflushedBytes + append.size() > config.maxBufferedBytes()) {
        StorageException error =
            new StorageException(
                Kind.STORAGE_UNAVAILABLE,
                "WAL buffer full ("
                    + unflushedBytes
                    + " bytes waiting for upload or metadata commit); retry later");
        safely(() -> listener.failed(append.partition(), append.leaderEpoch(), null, error));
        append.committed().completeExceptionally(error);
        return;
      }
      long now = System.nanoTime();
      if (buffer.isEmpty()) {
        bufferStartNanos = now;
        long generation = bufferStartNanos;
        timer.schedule(
            () -> sealIfAged(generation), config.maxAge().toNanos(), TimeUnit.NANOSECONDS);
      }
      buffer.add(append);
      bufferBytes += append.size();
      unflushedBytes += append.size();
      recentBytes = decayedInput(now) + append.size();
      recentAtNanos = now;
      urgentBuffered |= urgent;
      if (bufferBytes >= config.maxObjectBytes()) {
        sealLocked("size");
      } else {
        groupCommitLocked(now);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Would this append be refused right now? Lets the caller fail before it assigns offsets, so that
   * a refused append never leaves a gap.
   */
  @Override
  public boolean full(int bytes) {
    lock.lock();
    try {
      return closed || unflushedBytes + bytes > config.maxBufferedBytes();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Hold hold() {
    lock.lock();
    try {
      holds++;
    } finally {
      lock.unlock();
    }
    return new Hold() {
      private boolean released;

      @Override
      public void close() {
        lock.lock();
        try {
          if (released) {
            return;
          }
          released = true;
          holds--;
          if (holds == 0 && heldBack) {
            heldBack = false;
            groupCommitLocked(System.nanoTime());
          }
        } finally {
          lock.unlock();
        }
      }
    };
  }

  /**
   * Flushes whatever is buffered now; the future completes after every earlier flush has been
   * committed.
   */
  @Override
  public CompletableFuture<Void> flush() {
    lock.lock();
    try {
      if (!buffer.isEmpty()) {
        forceSealLocked("explicit");
      }
      return lastCommit;
    } finally {
      lock.unlock();
    }
  }

  private void sealIfAged(long generation) {
    lock.lock();
    try {
      if (!buffer.isEmpty() && bufferStartNanos == generation) {
        sealLocked("age");
      }
    } finally {
      lock.unlock();
    }
  }

  private double decayedInput(long now) {
    return recentBytes * Math.exp(-(now - recentAtNanos) / RATE_WINDOW_NANOS);
  }

  /**
   * Seals the buffer now if the WAL is in group-commit mode, nothing is in flight and the PUT cost
   * cap allows; arms a timer if only the cap is in the way. A flush that completes calls this
   * again.
   */
  private void groupCommitLocked(long now) {
    if (buffer.isEmpty()
        || inFlight > 0
        || closed
        || (decayedInput(now) >= config.groupCommitMaxBytesPerSecond()
            && bufferBytes < config.groupCommitMinBytes()
            && !urgentBuffered)) {
      return;
    }
    if (holds > 0) {
      // A request is still appending: wait for its last append (the hold's close calls this
      // again), but not beyond the bound.
      if (!heldBack) {
        heldBack = true;
        heldBackSinceNanos = now;
      }
      long left = heldBackSinceNanos + MAX_HOLD_NANOS - now;
      if (left > 0) {
        if (!holdTimerArmed) {
          holdTimerArmed = true;
          groupCommitAfter(left, () -> holdTimerArmed = false);
        }
        return;
      }
    }
    long wait = nextGroupCommitNanos - now;
    if (wait <= 0) {
      forceSealLocked("group-commit");
    } else if (!groupCommitArmed) {
      groupCommitArmed = true;
      groupCommitAfter(wait, () -> groupCommitArmed = false);
    }
  }

  /**
   * Tries group commit again after {@code nanos}, first running {@code disarm} (under the lock).
   */
  private void groupCommitAfter(long nanos, Runnable disarm) {
    timer.schedule(
        () -> {
          lock.lock();
          try {
            disarm.run();
            groupCommitLocked(System.nanoTime());
          } finally {
            lock.unlock();
          }
        },
        nanos,
        TimeUnit.NANOSECONDS);
  }

  private void sealLocked(String trigger) {
    if (inFlight >= config.maxInFlightFlushes()) {
      // Sealed again when an in-flight flush completes; meanwhile the buffer keeps growing up to
      // the memory bound.
      return;
    }
    forceSealLocked(trigger);
  }

  private void forceSealLocked(String trigger) {
    metrics.count("diskless.wal.flushes", "trigger", trigger, 1);
    nextGroupCommitNanos = System.nanoTime() + 1_000_000_000L / config.maxPutsPerSecond();
    List<PendingAppend> sealed = buffer;
    buffer = new ArrayList<>();
    bufferBytes = 0;
    bufferStartNanos = 0;
    urgentBuffered = false;
    heldBack = false;
    inFlight++;
    CompletableFuture<Void> previous = lastCommit;
    CompletableFuture<Void> done = new CompletableFuture<>();
    lastCommit = done;
    workers.execute(() -> flushSealed(sealed, previous, done));
  }

  private void flushSealed(
      List<PendingAppend> appends,
      CompletableFuture<Void> previousCommit,
      CompletableFuture<Void> done) {
    long bytes = appends.stream().mapToLong(PendingAppend::size).sum();
    try {
      Flush flush = Flush.build(objectStore.keyPrefix() + "wal/" + UUID.randomUUID(), appends);
      long putStart = System.nanoTime();
      Throwable putError = null;
      try {
        objectStore.put(flush.key, ByteBuffer.wrap(flush.bytes)).join();
        crashPoints.reach(CrashPoints.WAL_AFTER_PUT);
        metrics.walFlush(
            "object",
            flush.bytes.length,
            flush.partitions.size(),
            Duration.ofNanos(System.nanoTime() - putStart));
      } catch (RuntimeException e) {
        putError = StorageException.unwrap(e);
        LOG.warn(
            "object_key={} WAL upload of {} bytes failed: {}",
            flush.key,
            flush.bytes.length,
            putError.toString());
      }
      // Commits are ordered: a later flush may hold offsets that follow this one's.
      previousCommit.join();
      long sincePut = System.nanoTime() - putStart;
      if (putError == null && sincePut > config.commitDeadline().toNanos()) {
        putError =
            new StorageException(
                Kind.STORAGE_UNAVAILABLE,
                "WAL object "
                    + flush.key
                    + " uploaded "
                    + Duration.ofNanos(sincePut).toMillis()
                    + " ms ago, past the commit deadline; not committing it");
      }
      if (putError != null) {
        failAll(flush, null, putError);
      } else {
        commit(flush);
      }
    } catch (RuntimeException e) {
      LOG.error("WAL flush of {} appends failed unexpectedly", appends.size(), e);
    } finally {
      // Whatever happened, no append of this flush may stay pending: that would stall its
      // partition. The error is made only when needed (a stack trace per flush showed in profiles).
      StorageException leftover = null;
      for (PendingAppend a : appends) {
        if (!a.committed().isDone()) {
          if (leftover == null) {
            leftover = new StorageException(Kind.STORAGE_UNAVAILABLE, "WAL flush failed; retry");
          }
          StorageException error = leftover;
          safely(() -> listener.failed(a.partition(), a.leaderEpoch(), null, error));
          a.committed().completeExceptionally(error);
        }
      }
      lock.lock();
      try {
        inFlight--;
        unflushedBytes -= bytes;
        long now = System.nanoTime();
        if (!buffer.isEmpty() && bufferBytes >= config.maxObjectBytes()) {
          sealLocked("size");
        } else if (!buffer.isEmpty() && now - bufferStartNanos >= config.maxAge().toNanos()) {
          sealLocked("age");
        } else {
          groupCommitLocked(now);
        }
      } finally {
        lock.unlock();
      }
      done.complete(null);
    }
  }

  private static void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.error("WAL listener failed", e);
    }
  }

  private void commit(Flush flush) {
    long start = System.nanoTime();
    Map<TopicPartitionId, CommitOutcome> outcomes;
    try {
      outcomes = committer.commit(flush.key, "WAL", flush.bytes.length, nodeId, flush.commits());
      crashPoints.reach(CrashPoints.WAL_AFTER_COMMIT);
      metrics.walCommit(Duration.ofNanos(System.nanoTime() - start), "success");
    } catch (RuntimeException e) {
      metrics.walCommit(Duration.ofNanos(System.nanoTime() - start), "failure");
      Throwable cause = StorageException.unwrap(e);
      LOG.warn("object_key={} WAL commit failed, outcome unknown: {}", flush.key, cause.toString());
      failAll(flush, null, cause);
      return;
    }
    for (PartitionFlush pf : flush.partitions.values()) {
      if (pf.broken) {
        LOG.error(
            "partition={} WAL flush held non-contiguous appends; not committed", pf.partition);
        fail(pf, CommitOutcome.DIVERGED, null);
        continue;
      }
      CommitOutcome outcome = outcomes.getOrDefault(pf.partition, CommitOutcome.UNKNOWN);
      if (outcome == CommitOutcome.COMMITTED) {
        ByteBuffer chunk =
            ByteBuffer.wrap(flush.bytes, (int) pf.entry.position(), pf.entry.size())
                .slice()
                .asReadOnlyBuffer();
        safely(() -> listener.committed(pf.partition, pf.leaderEpoch, pf.entry, chunk));
        pf.appends.forEach(a -> a.committed().complete(null));
      } else {
        fail(pf, outcome, null);
      }
    }
    if (outcomes.values().stream().noneMatch(o -> o == CommitOutcome.COMMITTED)) {
      // Nothing references the object: remove it now rather than waiting for the orphan sweeper.
      objectStore.delete(List.of(flush.key));
    }
  }

  private void failAll(Flush flush, CommitOutcome outcome, Throwable cause) {
    flush.partitions.values().forEach(pf -> fail(pf, outcome, cause));
  }

  private void fail(PartitionFlush pf, CommitOutcome outcome, Throwable cause) {
    safely(() -> listener.failed(pf.partition, pf.leaderEpoch, outcome, cause));
    StorageException error =
        switch (outcome == null ? CommitOutcome.DIVERGED : outcome) {
          case FENCED ->
              new StorageException(
                  Kind.NOT_OWNER,
                  "partition "
                      + pf.partition
                      + " is no longer owned by node "
                      + nodeId
                      + " at epoch "
                      + pf.leaderEpoch);
          case UNKNOWN ->
              new StorageException(
                  Kind.UNKNOWN_PARTITION, "partition " + pf.partition + " no longer exists");
          default ->
              new StorageException(
                  Kind.STORAGE_UNAVAILABLE,
                  "append to "
                      + pf.partition
                      + " not committed: "
                      + (cause != null ? cause.getMessage() : "an earlier flush failed; retry"),
                  cause);
        };
    pf.appends.forEach(a -> a.committed().completeExceptionally(error));
  }

  /**
   * Stops at once, as a crash would: buffered appends fail and nothing more is flushed; an upload
   * already under way may still commit.
   */
  @Override
  public void halt() {
    List<PendingAppend> dropped;
    lock.lock();
    try {
      closed = true;
      dropped = buffer;
      buffer = new ArrayList<>();
      bufferBytes = 0;
    } finally {
      lock.unlock();
    }
    StorageException error = new StorageException(Kind.NOT_OWNER, "the WAL was halted");
    dropped.forEach(a -> a.committed().completeExceptionally(error));
    timer.shutdownNow();
    workers.shutdownNow();
  }

  @Override
  public void close() {
    CompletableFuture<Void> last;
    lock.lock();
    try {
      if (!buffer.isEmpty()) {
        forceSealLocked("close");
      }
      closed = true;
      last = lastCommit;
    } finally {
      lock.unlock();
    }
    try {
      last.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("WAL close: last flush did not finish: {}", e.toString());
    }
    timer.shutdownNow();
    workers.close();
  }

  /** One partition's share of a flush: its appends, contiguous in the object. */
  private static final class PartitionFlush {
    final TopicPartitionId partition;
    final int leaderEpoch;
    final List<PendingAppend> appends = new ArrayList<>();
    IndexEntry entry;
    List<ProducerSnapshot> producers;
    final List<AbortedTransaction> aborted = new ArrayList<>();
    boolean broken;

    PartitionFlush(TopicPartitionId partition, int leaderEpoch) {
      this.partition = partition;
      this.leaderEpoch = leaderEpoch;
    }
  }

  /**
   * A sealed buffer laid out as an object: batches grouped by partition, partitions in lock order.
   */
  private record Flush(String key, byte[] bytes, Map<TopicPartitionId, PartitionFlush> partitions) {

    static Flush build(String key, List<PendingAppend> appends) {
      TreeMap<TopicPartitionId, PartitionFlush> partitions = new TreeMap<>();
      long total = 0;
      for (PendingAppend a : appends) {
        partitions
            .computeIfAbsent(a.partition(), p -> new PartitionFlush(p, a.leaderEpoch()))
            .appends
            .add(a);
        total += a.size();
      }
      byte[] bytes = new byte[Math.toIntExact(total)];
      int pos = 0;
      for (PartitionFlush pf : partitions.values()) {
        int start = pos;
        long maxTimestamp = -1;
        int batches = 0;
        Map<Long, ProducerSnapshot> producers = new LinkedHashMap<>();
        PendingAppend previous = null;
        for (PendingAppend a : pf.appends) {
          // Never commit a run with a hole, an overlap or two epochs in it: offsets must stay
          // dense.
          if (previous != null
              && (a.baseOffset() != previous.lastOffset() + 1
                  || a.leaderEpoch() != previous.leaderEpoch())) {
            pf.broken = true;
          }
          previous = a;
          a.data().duplicate().get(bytes, pos, a.size());
          pos += a.size();
          maxTimestamp = Math.max(maxTimestamp, a.maxTimestamp());
          batches += a.batchCount();
          a.producers().forEach(s -> producers.put(s.producerId(), s));
          pf.aborted.addAll(a.aborted());
        }
        PendingAppend first = pf.appends.get(0);
        PendingAppend last = pf.appends.get(pf.appends.size() - 1);
        pf.entry =
            new IndexEntry(
                first.baseOffset(),
                last.lastOffset(),
                maxTimestamp,
                batches,
                key,
                start,
                pos - start);
        pf.producers = List.copyOf(producers.values());
      }
      return new Flush(key, bytes, partitions);
    }

    List<PartitionCommit> commits() {
      List<PartitionCommit> out = new ArrayList<>(partitions.size());
      for (PartitionFlush pf : partitions.values()) {
        if (!pf.broken) {
          out.add(
              new PartitionCommit(
                  pf.partition, pf.leaderEpoch, pf.entry, pf.producers, pf.aborted));
        }
      }
      return out;
    }
  }
}
