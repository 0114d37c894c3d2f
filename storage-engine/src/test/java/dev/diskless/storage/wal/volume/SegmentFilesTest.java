package dev.diskless.storage.wal.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.wal.PendingAppend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentFilesTest {

  private final TopicPartitionId tp = new TopicPartitionId(UUID.randomUUID(), 0);

  private PendingAppend append(long base, int bytes) {
    return new PendingAppend(
        tp,
        1,
        ByteBuffer.allocate(bytes),
        base,
        base,
        0,
        1,
        List.of(),
        List.of(),
        new CompletableFuture<>());
  }

  @Test
  void aRollInTheMiddleOfABurstKeepsTheFileHoldingTheBurstsEarlierRecords(@TempDir Path dir)
      throws Exception {
    SegmentFiles files = new SegmentFiles(dir, 1 << 20, StorageMetrics.noExport());
    long first = files.writeAndSync(List.of(append(0, 600_000)))[0];
    files.recordDone(first); // uploaded: the file is still being written, so it stays

    long[] burst = files.writeAndSync(List.of(append(1, 300_000), append(2, 300_000)));

    assertThat(burst[0]).isEqualTo(first);
    assertThat(burst[1]).isGreaterThan(first);
    Path firstFile = dir.resolve(String.format("%020d.wal", first));
    assertThat(firstFile).exists();
    assertThat(WalRecord.readAll(firstFile))
        .extracting(WalRecord::baseOffset)
        .containsExactly(0L, 1L);

    files.recordDone(burst[0]);
    assertThat(firstFile).doesNotExist();
    assertThat(dir.resolve(String.format("%020d.wal", burst[1]))).exists();
    files.close();
  }

  @Test
  void aTornRecordEndsTheFileForAReader(@TempDir Path dir) throws Exception {
    SegmentFiles files = new SegmentFiles(dir, 1 << 20, StorageMetrics.noExport());
    long seg = files.writeAndSync(List.of(append(0, 100), append(1, 100)))[0];
    files.close();
    Path file = dir.resolve(String.format("%020d.wal", seg));
    byte[] bytes = Files.readAllBytes(file);
    // Two records of 12 + 56 + 100 bytes; the second loses its last seven.
    Files.write(file, java.util.Arrays.copyOf(bytes, 2 * 168 - 7));
    assertThat(WalRecord.readAll(file)).extracting(WalRecord::baseOffset).containsExactly(0L);
  }

  /**
   * When no file was freed by the time the current one is half written, the next is zero-filled to
   * its full size before it is written (so that an fsync does not change metadata): it reads back
   * exactly the records written, and the file being filled is never one a replay reads.
   */
  @Test
  void laterFilesAreFilledAheadAndReadBackExactlyTheirRecords(@TempDir Path dir) throws Exception {
    SegmentFiles files = new SegmentFiles(dir, 1 << 20, StorageMetrics.noExport());
    long first = files.writeAndSync(List.of(append(0, 600_000)))[0];
    assertThat(Files.size(dir.resolve(String.format("%020d.wal", first))))
        .as("the first file grows as it is written")
        .isLessThan(1 << 20);
    // The next file is filled while this one is written.
    assertThat(files.nextFileReady().get(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(WalRecord.readDirectory(dir))
        .as("the file being filled is not read")
        .extracting(WalRecord::baseOffset)
        .containsExactly(0L);

    long[] burst = files.writeAndSync(List.of(append(1, 600_000), append(2, 1_000)));

    assertThat(burst[0]).isGreaterThan(first);
    Path second = dir.resolve(String.format("%020d.wal", burst[0]));
    assertThat(Files.size(second)).as("filled to its full size").isEqualTo(1 << 20);
    assertThat(WalRecord.readAll(second)).extracting(WalRecord::baseOffset).containsExactly(1L, 2L);
    assertThat(WalRecord.readDirectory(dir))
        .extracting(WalRecord::baseOffset)
        .containsExactly(0L, 1L, 2L);
    files.close();
    files.deleteAll();
    assertThat(dir).doesNotExist();
  }

  /**
   * A full-size file whose records are all committed becomes the next file instead of a filled one:
   * written over from its start, it reads back only its new records, though an old one follows them
   * whole (its CRC names the file it was written to).
   */
  @Test
  void aCommittedFileIsReusedAndItsOldRecordsEndIt(@TempDir Path dir) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SegmentFiles files = new SegmentFiles(dir, 1 << 20, new StorageMetrics(registry));
    long first = files.writeAndSync(List.of(append(0, 600_000)))[0];
    assertThat(files.nextFileReady().get(30, TimeUnit.SECONDS)).as("filled").isTrue();
    long second = files.writeAndSync(List.of(append(1, 530_000)))[0];
    assertThat(files.nextFileReady().get(30, TimeUnit.SECONDS)).as("filled").isTrue();
    assertThat(files.writeAndSync(List.of(append(2, 100_000)))[0]).isEqualTo(second);
    Path secondFile = dir.resolve(String.format("%020d.wal", second));
    byte[] secondBytes = Files.readAllBytes(secondFile);
    files.recordDone(first);
    files.recordDone(second);
    files.recordDone(second);

    // The roll takes the filled file and frees the second, which becomes the spare: no fill.
    long third = files.writeAndSync(List.of(append(3, 530_000)))[0];
    assertThat(third).isGreaterThan(second);
    assertThat(secondFile).doesNotExist();
    assertThat(dir.resolve(SegmentFiles.SPARE)).exists();
    assertThat(files.nextFileReady()).isCompletedWithValue(true);
    assertThat(WalRecord.readDirectory(dir))
        .as("the spare is not read")
        .extracting(WalRecord::baseOffset)
        .containsExactly(3L);

    files.writeAndSync(List.of(append(4, 400_000)));
    long fourth = files.writeAndSync(List.of(append(5, 530_000)))[0];
    assertThat(fourth).isGreaterThan(third);
    Path fourthFile = dir.resolve(String.format("%020d.wal", fourth));
    assertThat(Files.size(fourthFile)).isEqualTo(1 << 20);
    byte[] fourthBytes = Files.readAllBytes(fourthFile);
    int recordOne = 12 + 56 + 530_000;
    assertThat(Arrays.copyOfRange(fourthBytes, recordOne, recordOne + 12 + 56 + 100_000))
        .as("the second file's record of offset 2 follows the new record whole")
        .isEqualTo(Arrays.copyOfRange(secondBytes, recordOne, recordOne + 12 + 56 + 100_000));
    assertThat(WalRecord.readAll(fourthFile)).extracting(WalRecord::baseOffset).containsExactly(5L);
    assertThat(WalRecord.readDirectory(dir))
        .extracting(WalRecord::baseOffset)
        .containsExactly(3L, 4L, 5L);
    assertThat(registry.get("diskless.wal.volume.files").tag("source", "reused").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("diskless.wal.volume.files").tag("source", "filled").counter().count())
        .isEqualTo(2);
    files.close();
  }

  /** A broker's first file is filled ahead too, when its first write comes after the fill. */
  @Test
  void aPreparedFirstFileIsFilledAhead(@TempDir Path dir) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SegmentFiles files = new SegmentFiles(dir, 1 << 20, new StorageMetrics(registry));
    files.prepareFirstFile();
    assertThat(files.nextFileReady().get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(WalRecord.readDirectory(dir)).as("the file being filled is not read").isEmpty();

    long first = files.writeAndSync(List.of(append(0, 1_000)))[0];

    Path file = dir.resolve(String.format("%020d.wal", first));
    assertThat(Files.size(file)).isEqualTo(1 << 20);
    assertThat(WalRecord.readAll(file)).extracting(WalRecord::baseOffset).containsExactly(0L);
    assertThat(registry.get("diskless.wal.volume.files").tag("source", "filled").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("diskless.wal.volume.files").tag("source", "grown").counter().count())
        .isZero();
    files.close();
  }

  /** Files written before records named their file are still read: replays after an upgrade. */
  @Test
  void recordsOfTheFirstFormatAreStillRead(@TempDir Path dir) throws Exception {
    ByteBuffer file = ByteBuffer.allocate(2 * (12 + 56 + 10) + 100);
    for (long base = 7; base <= 8; base++) {
      ByteBuffer body = ByteBuffer.allocate(56 + 10);
      body.putLong(tp.topicId().getMostSignificantBits())
          .putLong(tp.topicId().getLeastSignificantBits())
          .putInt(tp.partition())
          .putInt(3)
          .putLong(base)
          .putLong(base)
          .putLong(0)
          .putInt(1)
          .putInt(10)
          .put(new byte[10])
          .flip();
      java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
      crc.update(body.duplicate());
      file.putInt(0x44574c31).putInt(body.remaining()).putInt((int) crc.getValue()).put(body);
    }
    Path path = dir.resolve(String.format("%020d.wal", 4));
    Files.write(path, file.array()); // zeros after the two records
    // A stray file is not a WAL file: a replay of the directory passes it by.
    Files.write(dir.resolve("notes.wal"), new byte[] {1, 2, 3});
    assertThat(WalRecord.readDirectory(dir))
        .extracting(WalRecord::baseOffset)
        .containsExactly(7L, 8L);
    assertThat(WalRecord.readAll(path))
        .extracting(WalRecord::baseOffset, WalRecord::leaderEpoch)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(7L, 3), org.assertj.core.groups.Tuple.tuple(8L, 3));
  }
}
