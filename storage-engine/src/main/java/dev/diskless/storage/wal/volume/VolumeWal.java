package dev.diskless.storage.wal.volume;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.CommitOutcome;
import dev.diskless.storage.metadata.IndexEntry;
import dev.diskless.storage.metadata.LeaseGuard;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.wal.CommitListener;
import dev.diskless.storage.wal.ObjectWal;
import dev.diskless.storage.wal.PendingAppend;
import dev.diskless.storage.wal.WriteAheadLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The low-latency WAL: appends are written to this broker's own directory on a shared ReadWriteMany
 * volume and acknowledged as soon as they are fsynced (one fsync per burst), then uploaded to
 * objects and committed to metadata in the background through an {@link ObjectWal}. A failed upload
 * is retried, in offset order, from the committed high watermark; it is given up only when the
 * partition moved, and then the new owner replays this directory ({@link VolumeRecovery}), so files
 * holding such records are kept. An append is acknowledged only while {@link LeaseGuard#holds()}: a
 * new owner takes a partition away without a hand-over only after this broker's lease expired. When
 * the lease is found gone, or a write fails, the partitions of that burst are given up at once
 * (nothing of them is published) and a later owner replays what reached the file.
 */
public final class VolumeWal implements WriteAheadLog {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeWal.class);

  private final VolumeWalConfig config;
  private final Path dir;
  private final LeaseGuard lease;
  private final CommitListener listener;
  private final ObjectWal uploader;
  private final PartitionOwnership ownership;
  private final VolumeRecovery recovery;
  private final StorageMetrics metrics;
  private final BlockingQueue<Queued> queue = new LinkedBlockingQueue<>();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicLong enqueued = new AtomicLong();
  private final AtomicLong processed = new AtomicLong();
  private final Map<Key, Uploads> uploads = new ConcurrentHashMap<>();
  private final Set<Key> givenUp = ConcurrentHashMap.newKeySet();
  private final AtomicLong unuploadedBytes = new AtomicLong();
  private final SegmentFiles files;
  private final Thread writer;
  private volatile boolean running = true;

  /**
   * @param uploaderFactory builds the object WAL that uploads acknowledged appends, given the
   *     listener it must report to
   */
  public VolumeWal(
      VolumeWalConfig config,
      Path dir,
      LeaseGuard lease,
      CommitListener listener,
      Function<CommitListener, ObjectWal> uploaderFactory,
      PartitionOwnership ownership,
      VolumeRecovery recovery,
      StorageMetrics metrics) {
    this.config = config;
    this.dir = dir;
    this.lease = lease;
    this.listener = listener;
    this.ownership = ownership;
    this.recovery = recovery;
    this.metrics = metrics;
    this.uploader = uploaderFactory.apply(new UploadListener());
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the volume WAL directory " + dir, e);
    }
    this.files = new SegmentFiles(dir, config.segmentBytes(), metrics);
    files.prepareFirstFile();
    metrics.gauge("diskless.wal.volume.unuploaded.bytes", unuploadedBytes::get);
    writer = Thread.ofPlatform().name("volume-wal-writer").daemon().start(this::writeLoop);
  }

  private record Key(TopicPartitionId partition, int leaderEpoch) {}

  private record Queued(PendingAppend append, long sequence) {}

  @Override
  public void append(PendingAppend append) {
    if (!running) {
      append
          .committed()
          .completeExceptionally(new StorageException(Kind.NOT_OWNER, "the volume WAL is closed"));
      return;
    }
    queuedBytes.addAndGet(append.size());
    queue.add(new Queued(append, enqueued.incrementAndGet()));
  }

  @Override
  public boolean full(int bytes) {
    return !running
        || unuploadedBytes.get() + queuedBytes.get() + bytes > config.maxUnuploadedBytes();
  }

  @Override
  public CompletableFuture<Void> recover(PartitionMetadata partition) {
    return recovery.recover(partition, uploader);
  }

  private void writeLoop() {
    List<Queued> burst = new ArrayList<>();
    while (running) {
      try {
        Queued first = queue.poll(50, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        burst.clear();
        burst.add(first);
        queue.drainTo(burst, 4096);
        writeBurst(burst);
      } catch (InterruptedException e) {
        break;
      } catch (RuntimeException e) {
        LOG.error("volume WAL writer failed", e);
        failRemaining(
            burst,
            new StorageException(Kind.STORAGE_UNAVAILABLE, "volume WAL writer failed: " + e, e));
      } finally {
        burst.forEach(q -> queuedBytes.addAndGet(-q.append.size()));
        if (!burst.isEmpty()) {
          processed.set(burst.get(burst.size() - 1).sequence);
        }
        burst.clear();
      }
    }
    List<Queued> left = new ArrayList<>();
    queue.drainTo(left);
    failRemaining(left, new StorageException(Kind.NOT_OWNER, "the volume WAL is closed"));
  }

  private void failRemaining(List<Queued> appends, StorageException error) {
    for (Queued q : appends) {
      if (!q.append.committed().isDone()) {
        giveUp(q.append, error);
      }
    }
  }

  /**
   * Fails an append that was not acknowledged and gives its partition up: it may be in the file or
   * not.
   */
  private void giveUp(PendingAppend a, StorageException error) {
    a.committed().completeExceptionally(error);
    if (givenUp.add(new Key(a.partition(), a.leaderEpoch()))) {
      listener.failed(a.partition(), a.leaderEpoch(), CommitOutcome.FENCED, error);
    }
  }

  private void writeBurst(List<Queued> burst) {
    List<PendingAppend> appends = new ArrayList<>(burst.size());
    for (Queued q : burst) {
      if (givenUp.contains(new Key(q.append.partition(), q.append.leaderEpoch()))) {
        // Queued behind a failure of the same partition and epoch: the failed record may be missing
        // from the file,
        // and a replay stops at the first gap, so nothing after it may be acknowledged.
        q.append
            .committed()
            .completeExceptionally(
                new StorageException(
                    Kind.NOT_OWNER, "partition " + q.append.partition() + " was given up; retry"));
      } else {
        appends.add(q.append);
      }
    }
    if (appends.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    long[] segments;
    try {
      segments = files.writeAndSync(appends);
    } catch (IOException e) {
      LOG.error("volume WAL write to {} failed: {}", dir, e.toString());
      StorageException error =
          new StorageException(Kind.STORAGE_UNAVAILABLE, "volume WAL write failed: " + e, e);
      appends.forEach(a -> giveUp(a, error));
      return;
    }
    metrics.walFlush(
        "volume",
        appends.stream().mapToLong(PendingAppend::size).sum(),
        appends.size(),
        Duration.ofNanos(System.nanoTime() - start));
    // Checked after the fsync: a broker paused past its lease must not acknowledge (nor publish)
    // what it wrote.
    if (!lease.holds()) {
      StorageException error =
          new StorageException(
              Kind.NOT_OWNER, "lease expired before the append was acknowledged; retry");
      for (int i = 0; i < appends.size(); i++) {
        files.recordDone(segments[i]);
        giveUp(appends.get(i), error);
      }
      return;
    }
    for (int i = 0; i < appends.size(); i++) {
      PendingAppend a = appends.get(i);
      unuploadedBytes.addAndGet(a.size());
      IndexEntry onVolume =
          new IndexEntry(
              a.baseOffset(),
              a.lastOffset(),
              a.maxTimestamp(),
              a.batchCount(),
              "volume:" + dir.getFileName(),
              0,
              a.size());
      listener.committed(a.partition(), a.leaderEpoch(), onVolume, a.data().asReadOnlyBuffer());
      a.committed().complete(null);
      uploads
          .computeIfAbsent(new Key(a.partition(), a.leaderEpoch()), Uploads::new)
          .add(new Upload(a, segments[i]));
    }
  }

  @Override
  public CompletableFuture<Void> flush() {
    return waitUntil(key -> true);
  }

  @Override
  public CompletableFuture<Void> flush(TopicPartitionId partition) {
    return waitUntil(key -> key.partition().equals(partition));
  }

  /**
   * Waits until what was queued before the call is written and the selected uploads are committed
   * (or moved).
   */
  private CompletableFuture<Void> waitUntil(java.util.function.Predicate<Key> selected) {
    long target = enqueued.get();
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("volume-wal-flush")
        .start(
            () -> {
              while (processed.get() < target && running) {
                sleep(2);
              }
              uploader.flush();
              while (uploads.entrySet().stream()
                  .anyMatch(e -> selected.test(e.getKey()) && !e.getValue().settledOrMoved())) {
                if (halted) {
                  done.completeExceptionally(
                      new StorageException(Kind.NOT_OWNER, "the volume WAL was halted"));
                  return;
                }
                sleep(5);
              }
              done.complete(null);
            });
    return done;
  }

  private volatile boolean halted;

  /**
   * Stops at once without flushing or uploading, as a crash would; the files stay for the next
   * owner.
   */
  @Override
  public void halt() {
    halted = true;
    running = false;
    writer.interrupt();
    uploader.halt();
  }

  @Override
  public void close() {
    try {
      flush().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("volume WAL close: uploads did not finish: {}", e.toString());
    }
    running = false;
    try {
      writer.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    uploader.close();
    files.close();
    boolean everythingUploaded = uploads.values().stream().allMatch(Uploads::allCommitted);
    if (everythingUploaded) {
      files.deleteAll();
    } else {
      LOG.warn(
          "volume WAL {} keeps files with appends not committed to object storage; the next owner replays them",
          dir);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** An acknowledged append on its way to object storage, and the WAL file that holds it. */
  private record Upload(PendingAppend append, long segment) {}

  /**
   * The uploads of one partition at one epoch, in offset order. A failure stops submitting; once
   * nothing is in flight, one retry at a time drops what is already committed (an upload whose
   * commit outcome was unknown may have succeeded) and resubmits the rest from the committed high
   * watermark. If the partition moved, its uploads stop and its records stay in the files for the
   * new owner's replay.
   */
  private final class Uploads {
    final Key key;
    final ArrayDeque<Upload> pending = new ArrayDeque<>();
    int inFlight;
    boolean retrying;
    boolean retryScheduled;
    boolean moved;

    Uploads(Key key) {
      this.key = key;
    }

    synchronized boolean settledOrMoved() {
      return moved || pending.isEmpty();
    }

    synchronized boolean allCommitted() {
      return !moved && pending.isEmpty();
    }

    synchronized void add(Upload u) {
      pending.addLast(u);
      if (!retrying && !moved) {
        submit(u);
      }
    }

    private void submit(Upload u) {
      inFlight++;
      PendingAppend a = u.append;
      PendingAppend copy =
          new PendingAppend(
              a.partition(),
              a.leaderEpoch(),
              a.data(),
              a.baseOffset(),
              a.lastOffset(),
              a.maxTimestamp(),
              a.batchCount(),
              a.producers(),
              a.aborted(),
              new CompletableFuture<>());
      copy.committed().whenComplete((v, t) -> settled(u, t));
      uploader.append(copy);
    }

    private synchronized void settled(Upload u, Throwable t) {
      inFlight--;
      if (t == null) {
        if (pending.remove(u)) {
          uploaded(u);
        }
      } else if (StorageException.unwrap(t) instanceof StorageException se
          && (se.kind() == Kind.NOT_OWNER || se.kind() == Kind.UNKNOWN_PARTITION)) {
        markMoved();
      } else {
        retrying = true;
      }
      scheduleRetryIfIdle();
    }

    private void markMoved() {
      if (!moved) {
        moved = true;
        // The records stay in their files for the next owner; only the memory bound is released.
        pending.forEach(p -> unuploadedBytes.addAndGet(-p.append.size()));
        LOG.warn(
            "partition={} epoch={} moved; {} appends left for the next owner's replay",
            key.partition(),
            key.leaderEpoch(),
            pending.size());
      }
    }

    private void scheduleRetryIfIdle() {
      if (retrying && !moved && inFlight == 0 && !retryScheduled && !halted) {
        retryScheduled = true;
        Thread.ofVirtual().name("volume-wal-retry").start(this::retry);
      }
    }

    private void retry() {
      sleep(100);
      long hw;
      try {
        hw = ownership.describe(key.partition()).join().highWatermark();
      } catch (RuntimeException e) {
        if (StorageException.unwrap(e) instanceof StorageException se
            && se.kind() == Kind.UNKNOWN_PARTITION) {
          synchronized (this) {
            retryScheduled = false;
            markMoved();
          }
          return;
        }
        LOG.warn(
            "partition={} volume WAL upload retry cannot read metadata: {}",
            key.partition(),
            e.toString());
        synchronized (this) {
          retryScheduled = false;
          scheduleRetryIfIdle();
        }
        return;
      }
      synchronized (this) {
        retryScheduled = false;
        while (!pending.isEmpty() && pending.peekFirst().append.lastOffset() < hw) {
          uploaded(pending.pollFirst());
        }
        retrying = false;
        LOG.info(
            "partition={} resubmitting {} volume WAL appends from offset {}",
            key.partition(),
            pending.size(),
            hw);
        for (Upload u : List.copyOf(pending)) {
          if (retrying || moved) {
            break; // a resubmission failed at once; the next retry starts over from the high
            // watermark
          }
          submit(u);
        }
        scheduleRetryIfIdle();
      }
    }
  }

  private void uploaded(Upload u) {
    unuploadedBytes.addAndGet(-u.append.size());
    files.recordDone(u.segment);
  }

  /**
   * The uploader reports here: success is already visible; a partition that moved is dropped by the
   * log.
   */
  private final class UploadListener implements CommitListener {
    @Override
    public void committed(
        TopicPartitionId partition, int leaderEpoch, IndexEntry entry, ByteBuffer chunk) {
      listener.stored(partition, leaderEpoch, entry, chunk);
    }

    @Override
    public void failed(
        TopicPartitionId partition, int leaderEpoch, CommitOutcome outcome, Throwable cause) {
      if (outcome == CommitOutcome.FENCED || outcome == CommitOutcome.UNKNOWN) {
        listener.failed(partition, leaderEpoch, outcome, cause);
      }
    }
  }
}
