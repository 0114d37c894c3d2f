package dev.diskless.storage.wal.volume;

import dev.diskless.storage.TopicPartitionId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * One append as written to a volume WAL file: the partition, the epoch it was appended under, its
 * offsets and its record-batch bytes, framed with a magic number, a length and a CRC32C. A torn
 * record at the end of a file (a crash during the write) fails its check and ends the file: it was
 * never fsynced, so never acknowledged.
 */
public record WalRecord(
    TopicPartitionId partition,
    int leaderEpoch,
    long baseOffset,
    long lastOffset,
    long maxTimestamp,
    int batchCount,
    ByteBuffer data) {

  private static final int MAGIC = 0x44574c31; // "DWL1"
  private static final int HEADER = 4 + 4 + 4; // magic, body length, crc
  private static final int FIXED_BODY = 8 + 8 + 4 + 4 + 8 + 8 + 8 + 4 + 4;

  /** The bytes this record takes in a file. */
  public int encodedSize() {
    return HEADER + FIXED_BODY + data.remaining();
  }

  /** This record in a buffer of its own, ready to write. */
  public ByteBuffer encode() {
    ByteBuffer out = ByteBuffer.allocate(encodedSize());
    encodeInto(out);
    return out.flip();
  }

  /**
   * Puts this record at {@code out}'s position (which must have {@link #encodedSize()} bytes left)
   * and advances it; {@code out} may be direct, so that the writer copies each byte once.
   */
  public void encodeInto(ByteBuffer out) {
    int dataLength = data.remaining();
    int bodyLength = FIXED_BODY + dataLength;
    int start = out.position();
    out.putInt(MAGIC).putInt(bodyLength).putInt(0);
    out.putLong(partition.topicId().getMostSignificantBits())
        .putLong(partition.topicId().getLeastSignificantBits())
        .putInt(partition.partition())
        .putInt(leaderEpoch)
        .putLong(baseOffset)
        .putLong(lastOffset)
        .putLong(maxTimestamp)
        .putInt(batchCount)
        .putInt(dataLength)
        .put(data.duplicate());
    CRC32C crc = new CRC32C();
    crc.update(out.slice(start + HEADER, bodyLength));
    out.putInt(start + 8, (int) crc.getValue());
  }

  /**
   * Every intact record of every WAL file of a broker directory, in file order. Files (or the whole
   * directory) removed while this reads were fully committed by their owner, so they are skipped.
   */
  public static List<WalRecord> readDirectory(Path dir) throws IOException {
    List<Path> files;
    try (var list = java.nio.file.Files.list(dir)) {
      files = list.filter(f -> f.toString().endsWith(".wal")).sorted().toList();
    } catch (java.nio.file.NoSuchFileException gone) {
      return List.of();
    }
    List<WalRecord> out = new ArrayList<>();
    for (Path file : files) {
      try {
        out.addAll(readAll(file));
      } catch (java.nio.file.NoSuchFileException gone) {
        // Deleted by its owner after everything in it was committed.
      }
    }
    return out;
  }

  /** Every intact record of a WAL file, in order, stopping at the first torn or corrupt one. */
  public static List<WalRecord> readAll(Path file) throws IOException {
    List<WalRecord> out = new ArrayList<>();
    ByteBuffer all;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      all = ByteBuffer.allocate(Math.toIntExact(ch.size()));
      while (all.hasRemaining() && ch.read(all) >= 0) {
        // keep reading
      }
      all.flip();
    }
    while (all.remaining() >= HEADER) {
      int pos = all.position();
      if (all.getInt(pos) != MAGIC) {
        break;
      }
      int bodyLength = all.getInt(pos + 4);
      if (bodyLength < FIXED_BODY || bodyLength > all.remaining() - HEADER) {
        break;
      }
      CRC32C crc = new CRC32C();
      crc.update(all.array(), pos + HEADER, bodyLength);
      if ((int) crc.getValue() != all.getInt(pos + 8)) {
        break;
      }
      all.position(pos + HEADER);
      TopicPartitionId tp =
          new TopicPartitionId(new UUID(all.getLong(), all.getLong()), all.getInt());
      int epoch = all.getInt();
      long base = all.getLong();
      long last = all.getLong();
      long maxTs = all.getLong();
      int batches = all.getInt();
      int dataLength = all.getInt();
      ByteBuffer data = all.slice(all.position(), dataLength);
      all.position(all.position() + dataLength);
      out.add(new WalRecord(tp, epoch, base, last, maxTs, batches, data));
    }
    return out;
  }
}
