package dev.diskless.storage.wal.volume;

import dev.diskless.storage.wal.PendingAppend;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
 */
final class SegmentFiles {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentFiles.class);

  private final Path dir;
  private final long segmentBytes;
  private final Map<Long, AtomicInteger> live = new ConcurrentHashMap<>();
  private volatile long currentSeq;
  // Owned by the writer thread.
  private FileChannel channel;
  private long size;

  SegmentFiles(Path dir, long segmentBytes) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
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
        if (size > 0 && size + record.remaining() > segmentBytes) {
          roll();
          goodSize = 0;
        }
        while (record.hasRemaining()) {
          size += channel.write(record);
        }
        live.computeIfAbsent(currentSeq, k -> new AtomicInteger()).incrementAndGet();
        counted.add(currentSeq);
        segments[i] = currentSeq;
      }
      channel.force(false);
      return segments;
    } catch (IOException e) {
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
    FileChannel opened =
        FileChannel.open(file(seq), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
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

  private void roll() throws IOException {
    long previous = currentSeq;
    channel.force(false);
    channel.close();
    channel = null;
    open();
    maybeDelete(previous);
  }

  private Path file(long seq) {
    return dir.resolve(String.format("%020d.wal", seq));
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
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException ignored) {
      // closing
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
