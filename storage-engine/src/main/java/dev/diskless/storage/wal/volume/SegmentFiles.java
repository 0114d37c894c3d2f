package dev.diskless.storage.wal.volume;

import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.wal.PendingAppend;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The numbered WAL files of one broker directory. Each file counts the records in it that are not
 * committed to object storage yet; a file is deleted when that count reaches zero and it is no
 * longer the one being written. Records are counted as soon as they are written, before any roll to
 * a new file, so a file is never deleted while it holds a record about to be acknowledged. After a
 * failed write the torn tail is cut off (or a new file started), so that records written later stay
 * readable by a replay.
 *
 * <p>Files are written over blocks they already have: a record written into blocks the file already
 * has changes no metadata, so its fsync is a data flush alone, where one that grows the file also
 * commits the file system's journal (on ext4, together with every other file's pending writes: 2–4
 * ms per fsync while another process wrote, against 0.2 ms). The next file waits under a name
 * replays do not read ({@link #SPARE}): a full-size file whose records are all committed, reused
 * (its old records name their old file, so they end it for a reader as a torn record does), or,
 * when none was freed by the time the current file is half written, one zero-filled in the
 * background. Reuse writes each byte to the volume once; a fill writes it twice. A broker's first
 * file is filled from {@link #prepareFirstFile()}; a write that comes before that fill has ended
 * grows a file of its own and leaves the filled one for the next.
 */
final class SegmentFiles {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentFiles.class);

  /** The next file while it is filled; not a {@code .wal} file, so replays never read it. */
  static final String SPARE = "next.wal.spare";

  private static final int FILL_CHUNK = 1 << 20;

  private static final int OUT_BYTES = 4 << 20;

  private static final String FILES_METER = "diskless.wal.volume.files";

  private static final CompletableFuture<Boolean> NONE = CompletableFuture.completedFuture(false);

  private final Path dir;
  private final long segmentBytes;
  private final StorageMetrics metrics;
  private final Map<Long, AtomicInteger> live = new ConcurrentHashMap<>();
  private volatile long currentSeq;
  // Owned by the writer thread.
  private FileChannel channel;
  private long size;
  // The spare: done(true) when SPARE is ready, running while it is filled, NONE when there is
  // none, done(false) otherwise when its fill failed (none, and no other fill before the next
  // file). Changed under spareLock, by the writer or a thread whose commit frees a file.
  private final Object spareLock = new Object();
  private volatile CompletableFuture<Boolean> spare = NONE;
  private String spareSource = "grown";
  private boolean closed;
  // Records are put here and written a buffer at a time: one copy per byte and no garbage, where a
  // heap buffer per record was copied again into a temporary direct one by every write.
  private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_BYTES);

  SegmentFiles(Path dir, long segmentBytes, StorageMetrics metrics) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.metrics = metrics;
    // Every source from the start, so that a rate over them is defined before the first roll.
    for (String source : List.of("grown", "filled", "reused")) {
      metrics.count(FILES_METER, "source", source, 0);
    }
  }

  /** Writes the appends as records, fsyncs, and returns the file of each. Writer thread only. */
  long[] writeAndSync(List<PendingAppend> appends) throws IOException {
    if (channel == null) {
      open();
    }
    long goodSize = size;
    long[] segments = new long[appends.size()];
    List<Long> counted = new ArrayList<>(appends.size());
    try {
      for (int i = 0; i < appends.size(); i++) {
        PendingAppend a = appends.get(i);
        WalRecord record =
            new WalRecord(
                a.partition(),
                a.leaderEpoch(),
                a.baseOffset(),
                a.lastOffset(),
                a.maxTimestamp(),
                a.batchCount(),
                a.data());
        int length = record.encodedSize();
        if (size > 0 && size + length > segmentBytes) {
          writeOut();
          roll();
          goodSize = 0;
        }
        if (length > out.remaining()) {
          writeOut();
        }
        if (length <= out.remaining()) {
          record.encodeInto(out, currentSeq);
        } else {
          // Larger than the whole buffer: written from a buffer of its own.
          write(record.encode(currentSeq));
        }
        size += length;
        live.computeIfAbsent(currentSeq, k -> new AtomicInteger()).incrementAndGet();
        counted.add(currentSeq);
        segments[i] = currentSeq;
      }
      writeOut();
      channel.force(false);
      if (size >= segmentBytes / 2 && spare == NONE) {
        fillSpareIfNone();
      }
      return segments;
    } catch (IOException e) {
      out.clear();
      counted.forEach(this::recordDone);
      try {
        channel.truncate(goodSize);
        channel.force(false);
        size = goodSize;
      } catch (IOException again) {
        LOG.error(
            "cannot cut the torn tail of the volume WAL file {} in {}; starting a new file",
            currentSeq,
            dir);
        closeQuietly();
      }
      throw e;
    }
  }

  /** Writes what {@link #out} holds to the current file. */
  private void writeOut() throws IOException {
    out.flip();
    try {
      write(out);
    } finally {
      out.clear();
    }
  }

  private void write(ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      channel.write(bytes);
    }
  }

  /**
   * A record of file {@code seq} is committed to object storage (or was never acknowledged). Any
   * thread.
   */
  void recordDone(long seq) {
    AtomicInteger count = live.get(seq);
    if (count != null && count.decrementAndGet() <= 0) {
      maybeDelete(seq);
    }
  }

  private void maybeDelete(long seq) {
    AtomicInteger count = live.get(seq);
    if (seq == currentSeq || (count != null && count.get() > 0)) {
      return;
    }
    live.remove(seq);
    if (keepAsSpare(file(seq))) {
      return;
    }
    try {
      Files.deleteIfExists(file(seq));
    } catch (IOException e) {
      LOG.warn("cannot delete volume WAL file {} of {}: {}", seq, dir, e.toString());
    }
  }

  private void open() throws IOException {
    long seq = currentSeq + 1;
    while (Files.exists(file(seq))) {
      seq++;
    }
    FileChannel opened = null;
    String source = "grown";
    synchronized (spareLock) {
      boolean ready = spare.getNow(false);
      if (spare.isDone()) {
        spare = NONE;
      }
      if (ready) {
        try {
          Files.move(dir.resolve(SPARE), file(seq), StandardCopyOption.ATOMIC_MOVE);
          opened = FileChannel.open(file(seq), StandardOpenOption.WRITE);
          source = spareSource;
        } catch (IOException e) {
          LOG.warn("cannot use the spare volume WAL file in {}: {}", dir, e.toString());
          // Zeros or committed records only: made again below as an empty file.
          Files.deleteIfExists(file(seq));
        }
      }
    }
    if (opened == null) {
      opened = FileChannel.open(file(seq), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
    metrics.count(FILES_METER, "source", source, 1);
    // The directory entry of the new file must be durable too, or a crash could lose a fsynced
    // file.
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException ignored) {
      // Some file systems cannot open a directory; the file's own fsync is all they offer.
    }
    channel = opened;
    size = 0;
    currentSeq = seq;
  }

  /**
   * Makes a file whose records are all committed the next file, if it has its full size and there
   * is no spare yet; true if it did.
   */
  private boolean keepAsSpare(Path file) {
    synchronized (spareLock) {
      if (closed || !spare.isDone() || spare.getNow(false)) {
        return false;
      }
      try {
        if (Files.size(file) != segmentBytes) {
          return false;
        }
        Files.move(file, dir.resolve(SPARE), StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        // Gone already, or not renamable: deleted (or left) as before.
        return false;
      }
      spare = CompletableFuture.completedFuture(true);
      spareSource = "reused";
      return true;
    }
  }

  /** Starts filling the next file unless there is a spare already (or one being filled). */
  private void fillSpareIfNone() {
    synchronized (spareLock) {
      if (!closed && spare == NONE) {
        spare = fillSpare();
        spareSource = "filled";
      }
    }
  }

  /**
   * Starts filling the first file in the background, so that a broker's first records are written
   * over blocks the file already has, as later files' are.
   */
  void prepareFirstFile() {
    fillSpareIfNone();
  }

  /** Completes (true when ready) once the next file, if one is being filled or kept, is ready. */
  CompletableFuture<Boolean> nextFileReady() {
    return spare;
  }

  /**
   * Writes the next file's zeros and fsyncs them (with its size) on a virtual thread; completes
   * true when the file is ready to be renamed into place, false if it could not be made.
   */
  private CompletableFuture<Boolean> fillSpare() {
    CompletableFuture<Boolean> ready = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("volume-wal-fill")
        .start(
            () -> {
              Path path = dir.resolve(SPARE);
              try (FileChannel ch =
                  FileChannel.open(
                      path,
                      StandardOpenOption.CREATE,
                      StandardOpenOption.TRUNCATE_EXISTING,
                      StandardOpenOption.WRITE)) {
                ByteBuffer zeros = ByteBuffer.allocateDirect(FILL_CHUNK);
                for (long at = 0; at < segmentBytes; at += FILL_CHUNK) {
                  zeros.clear().limit((int) Math.min(FILL_CHUNK, segmentBytes - at));
                  while (zeros.hasRemaining()) {
                    ch.write(zeros, at + zeros.position());
                  }
                }
                ch.force(true);
                ready.complete(true);
              } catch (IOException | RuntimeException e) {
                LOG.warn("cannot fill the next volume WAL file in {}: {}", dir, e.toString());
                ready.complete(false); // not tried again before the next file
              }
            });
    return ready;
  }

  private void roll() throws IOException {
    long previous = currentSeq;
    channel.force(false);
    channel.close();
    channel = null;
    open();
    maybeDelete(previous);
  }

  private Path file(long seq) {
    return dir.resolve(WalRecord.fileName(seq));
  }

  private void closeQuietly() {
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException ignored) {
      // Already failing.
    }
    channel = null;
    long previous = currentSeq;
    currentSeq =
        previous + 1; // the next open starts a new file; the old one may be deleted once done
    maybeDelete(previous);
  }

  void close() {
    synchronized (spareLock) {
      closed = true;
    }
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException ignored) {
      // closing
    }
    try {
      // A fill still writing would put its file back after deleteAll.
      spare.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("the next volume WAL file in {} is still being filled: {}", dir, e.toString());
    }
  }

  /** Removes every file and the directory (at a clean shutdown when everything was committed). */
  void deleteAll() {
    try (var list = Files.list(dir)) {
      for (Path f : list.toList()) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      LOG.warn("cannot remove volume WAL directory {}: {}", dir, e.toString());
    }
  }
}
