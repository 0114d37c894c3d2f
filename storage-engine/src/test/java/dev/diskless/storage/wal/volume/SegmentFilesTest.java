package dev.diskless.storage.wal.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.wal.PendingAppend;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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
    SegmentFiles files = new SegmentFiles(dir, 1 << 20);
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
    SegmentFiles files = new SegmentFiles(dir, 1 << 20);
    long seg = files.writeAndSync(List.of(append(0, 100), append(1, 100)))[0];
    files.close();
    Path file = dir.resolve(String.format("%020d.wal", seg));
    byte[] bytes = Files.readAllBytes(file);
    // Two records of 12 + 56 + 100 bytes; the second loses its last seven.
    Files.write(file, java.util.Arrays.copyOf(bytes, 2 * 168 - 7));
    assertThat(WalRecord.readAll(file)).extracting(WalRecord::baseOffset).containsExactly(0L);
  }

  /**
   * Files after the first are zero-filled to their full size before they are written (so that an
   * fsync does not change metadata): they read back exactly the records written, and the file being
   * filled is never one a replay reads.
   */
  @Test
  void laterFilesAreFilledAheadAndReadBackExactlyTheirRecords(@TempDir Path dir) throws Exception {
    SegmentFiles files = new SegmentFiles(dir, 1 << 20);
    long first = files.writeAndSync(List.of(append(0, 600_000)))[0];
    assertThat(Files.size(dir.resolve(String.format("%020d.wal", first))))
        .as("the first file grows as it is written")
        .isLessThan(1 << 20);
    // The next file is filled while this one is written.
    assertThat(files.nextFileFilled().get(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
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
}
