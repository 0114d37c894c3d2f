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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The low-latency WAL: appends are written to this broker's own directory on a shared ReadWriteMany
 * volume and acknowledged as soon as they are fsynced (grouped: one fsync per burst), then uploaded
 * to objects and committed to metadata in the background through an {@link ObjectWal}. A failed
 * upload is retried, in offset order, from the committed high watermark; it is never given up
 * except when the partition moved, in which case the new owner replays this directory ({@link
 * VolumeRecovery}). An append is acknowledged only while {@link LeaseGuard#holds()}, because a new
 * owner takes a partition away without a hand-over only after this broker's lease expired.
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
  private final BlockingQueue<PendingAppend> queue = new LinkedBlockingQueue<>();
  private final Map<TopicPartitionId, Uploads> uploads = new ConcurrentHashMap<>();
  private final Map<Long, AtomicInteger> liveRecordsBySegment = new ConcurrentHashMap<>();
  private final AtomicLong unuploadedBytes = new AtomicLong();
  private final AtomicInteger queued = new AtomicInteger();
  private final java.util.Set<Failed> failed = ConcurrentHashMap.newKeySet();
  private final Thread writer;
  private volatile boolean running = true;
  // Owned by the writer thread.
  private FileChannel segment;
  private long segmentSeq;
  private long segmentSize;

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
      openSegment();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the volume WAL directory " + dir, e);
    }
    metrics.gauge("diskless.wal.volume.unuploaded.bytes", unuploadedBytes::get);
    writer = Thread.ofPlatform().name("volume-wal-writer").daemon().start(this::writeLoop);
  }

  @Override
  public void append(PendingAppend append) {
    if (!running) {
      append
          .committed()
          .completeExceptionally(new StorageException(Kind.NOT_OWNER, "the volume WAL is closed"));
      return;
    }
    queued.incrementAndGet();
    queue.add(append);
  }

  @Override
  public boolean full(int bytes) {
    return !running || unuploadedBytes.get() + bytes > config.maxUnuploadedBytes();
  }

  @Override
  public CompletableFuture<Void> recover(PartitionMetadata partition) {
    return recovery.recover(partition, uploader);
  }

  private void writeLoop() {
    List<PendingAppend> burst = new ArrayList<>();
    while (running || !queue.isEmpty()) {
      try {
        PendingAppend first = queue.poll(50, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        burst.clear();
        burst.add(first);
        queue.drainTo(burst, 4096);
        writeBurst(burst);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.error("volume WAL writer failed", e);
      } finally {
        queued.addAndGet(-burst.size());
      }
    }
  }

  private void writeBurst(List<PendingAppend> burst) {
    // Appends queued behind a failed write of the same partition and epoch must not be
    // acknowledged: the failed
    // record may be missing from the file, and a replay stops at the first gap.
    burst.removeIf(
        a -> {
          if (failed.contains(new Failed(a.partition(), a.leaderEpoch()))) {
            a.committed()
                .completeExceptionally(
                    new StorageException(
                        Kind.NOT_OWNER,
                        "partition "
                            + a.partition()
                            + " dropped after a volume WAL write failure"));
            return true;
          }
          return false;
        });
    if (burst.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    long[] segments = new long[burst.size()];
    try {
      for (int i = 0; i < burst.size(); i++) {
        PendingAppend a = burst.get(i);
        ByteBuffer record =
            new WalRecord(
                    a.partition(),
                    a.leaderEpoch(),
                    a.baseOffset(),
                    a.lastOffset(),
                    a.maxTimestamp(),
                    a.batchCount(),
                    a.data())
                .encode();
        if (segmentSize > 0 && segmentSize + record.remaining() > config.segmentBytes()) {
          rollSegment();
        }
        while (record.hasRemaining()) {
          segmentSize += segment.write(record);
        }
        segments[i] = segmentSeq;
      }
      segment.force(false);
    } catch (IOException e) {
      LOG.error("volume WAL write to {} failed: {}", dir, e.toString());
      StorageException error =
          new StorageException(Kind.STORAGE_UNAVAILABLE, "volume WAL write failed: " + e, e);
      // The partitions are given up: a later owner (possibly this broker again, at a new epoch)
      // replays whatever of
      // them reached the file.
      for (PendingAppend a : burst) {
        a.committed().completeExceptionally(error);
        if (failed.add(new Failed(a.partition(), a.leaderEpoch()))) {
          listener.failed(a.partition(), a.leaderEpoch(), CommitOutcome.FENCED, error);
        }
      }
      try {
        rollSegment();
      } catch (IOException again) {
        LOG.error("volume WAL cannot start a new file in {}: {}", dir, again.toString());
      }
      return;
    }
    metrics.walFlush(
        burst.stream().mapToLong(PendingAppend::size).sum(),
        burst.size(),
        Duration.ofNanos(System.nanoTime() - start));
    // Checked after the fsync: a broker paused past its lease must not acknowledge what it wrote
    // before the pause.
    boolean holds = lease.holds();
    for (int i = 0; i < burst.size(); i++) {
      PendingAppend a = burst.get(i);
      liveRecordsBySegment.computeIfAbsent(segments[i], k -> new AtomicInteger()).incrementAndGet();
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
      if (holds) {
        a.committed().complete(null);
      } else {
        a.committed()
            .completeExceptionally(
                new StorageException(
                    Kind.NOT_OWNER, "lease expired before the append was acknowledged; retry"));
      }
      uploads.computeIfAbsent(a.partition(), Uploads::new).add(new Upload(a, segments[i]));
    }
  }

  private void openSegment() throws IOException {
    segmentSeq++;
    Path file = dir.resolve(String.format("%020d.wal", segmentSeq));
    while (Files.exists(file)) {
      segmentSeq++;
      file = dir.resolve(String.format("%020d.wal", segmentSeq));
    }
    segment = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    segmentSize = 0;
    // The directory entry of the new file must be durable too, or a crash could lose a fsynced
    // file.
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException ignored) {
      // Some file systems do not allow opening a directory; the file's own fsync is all they offer.
    }
  }

  private void rollSegment() throws IOException {
    long previous = segmentSeq;
    segment.force(false);
    segment.close();
    openSegment();
    maybeDelete(previous);
  }

  private void uploaded(Upload u) {
    unuploadedBytes.addAndGet(-u.append.size());
    AtomicInteger live = liveRecordsBySegment.get(u.segment);
    if (live != null && live.decrementAndGet() == 0) {
      maybeDelete(u.segment);
    }
  }

  private void maybeDelete(long seq) {
    AtomicInteger live = liveRecordsBySegment.get(seq);
    if (seq == segmentSeq || (live != null && live.get() > 0)) {
      return;
    }
    liveRecordsBySegment.remove(seq);
    try {
      Files.deleteIfExists(dir.resolve(String.format("%020d.wal", seq)));
    } catch (IOException e) {
      LOG.warn("cannot delete volume WAL file {} of {}: {}", seq, dir, e.toString());
    }
  }

  @Override
  public CompletableFuture<Void> flush() {
    return CompletableFuture.runAsync(
        () -> {
          while (queued.get() > 0
              || uploads.values().stream().anyMatch(Uploads::pendingAndActive)) {
            uploader.flush();
            sleep(5);
          }
        },
        command -> Thread.ofVirtual().name("volume-wal-flush").start(command));
  }

  /**
   * Stops at once without flushing or uploading, as a crash would; the files stay for the next
   * owner.
   */
  public void halt() {
    running = false;
    writer.interrupt();
    uploader.close();
  }

  @Override
  public void close() {
    running = false;
    try {
      writer.join(30_000);
      flush().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("volume WAL close: uploads did not finish: {}", e.toString());
    }
    uploader.close();
    try {
      segment.close();
    } catch (IOException ignored) {
      // closing
    }
    boolean everythingUploaded = uploads.values().stream().allMatch(u -> u.pending.isEmpty());
    if (everythingUploaded) {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
        Files.deleteIfExists(dir);
      } catch (IOException e) {
        LOG.warn("cannot remove volume WAL directory {}: {}", dir, e.toString());
      }
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

  private record Failed(TopicPartitionId partition, int leaderEpoch) {}

  /** An acknowledged append on its way to object storage. */
  private record Upload(PendingAppend append, long segment) {}

  /**
   * The uploads of one partition, in offset order. A failure stops submitting; once nothing is in
   * flight, entries already committed (an upload whose commit outcome was unknown may have
   * succeeded) are dropped and the rest resubmitted from the committed high watermark.
   */
  private final class Uploads {
    final TopicPartitionId partition;
    final ArrayDeque<Upload> pending = new ArrayDeque<>();
    int inFlight;
    boolean retrying;
    boolean moved;

    Uploads(TopicPartitionId partition) {
      this.partition = partition;
    }

    synchronized boolean pendingAndActive() {
      return !moved && !pending.isEmpty();
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
              new CompletableFuture<>());
      copy.committed().whenComplete((v, t) -> settled(u, t));
      uploader.append(copy);
    }

    private synchronized void settled(Upload u, Throwable t) {
      inFlight--;
      if (t == null) {
        pending.remove(u);
        uploaded(u);
      } else if (StorageException.unwrap(t) instanceof StorageException se
          && (se.kind() == Kind.NOT_OWNER || se.kind() == Kind.UNKNOWN_PARTITION)) {
        moved = true;
      } else {
        retrying = true;
      }
      if (retrying && inFlight == 0 && !moved) {
        Thread.ofVirtual().name("volume-wal-retry").start(this::retry);
      }
    }

    private void retry() {
      sleep(100);
      long hw;
      try {
        PartitionMetadata meta = ownership.describe(partition).join();
        hw = meta.highWatermark();
      } catch (RuntimeException e) {
        LOG.warn(
            "partition={} volume WAL upload retry cannot read metadata: {}",
            partition,
            e.toString());
        Thread.ofVirtual().start(this::retry);
        return;
      }
      synchronized (this) {
        while (!pending.isEmpty() && pending.peekFirst().append.lastOffset() < hw) {
          uploaded(pending.pollFirst());
        }
        retrying = false;
        LOG.info(
            "partition={} resubmitting {} volume WAL appends from offset {}",
            partition,
            pending.size(),
            hw);
        for (Upload u : pending) {
          submit(u);
        }
      }
    }
  }

  /**
   * The uploader reports here: success is already visible; a partition that moved is dropped by the
   * log.
   */
  private final class UploadListener implements CommitListener {
    @Override
    public void committed(
        TopicPartitionId partition, int leaderEpoch, IndexEntry entry, ByteBuffer chunk) {}

    @Override
    public void failed(
        TopicPartitionId partition, int leaderEpoch, CommitOutcome outcome, Throwable cause) {
      if (outcome == CommitOutcome.FENCED || outcome == CommitOutcome.UNKNOWN) {
        listener.failed(partition, leaderEpoch, outcome, cause);
      }
    }
  }
}
