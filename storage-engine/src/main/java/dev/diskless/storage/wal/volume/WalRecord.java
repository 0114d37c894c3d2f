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
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * One append as written to a volume WAL file: the partition, the epoch it was appended under, its
 * offsets and its record-batch bytes, framed with a magic number, a length and a CRC32C. A torn
 * record at the end of a file (a crash during the write) fails its check and ends the file: it was
 * never fsynced, so never acknowledged.
 *
 * <p>The CRC also covers the number of the file the record was written to (not stored: a reader
 * takes it from the file's name), because files are reused: once everything in a file is committed
 * it may become a later file, written over from its start, and the records of its earlier life that
 * follow the new ones must end it as zeros or a torn record would. Records of the first format
 * ({@code DWL1}, before files were reused) are still read from files that begin with one.
 */
public record WalRecord(
    TopicPartitionId partition,
    int leaderEpoch,
    long baseOffset,
    long lastOffset,
    long maxTimestamp,
    int batchCount,
    ByteBuffer data) {

  /** Records whose CRC covers their file's number: every file written since files are reused. */
  private static final int MAGIC = 0x44574c32; // "DWL2"

  private static final Pattern WAL_FILE = Pattern.compile("[0-9]{1,20}\\.wal");

  /** The first format, whose CRC covers the body alone; only in files no release reuses. */
  private static final int MAGIC_UNNAMED = 0x44574c31; // "DWL1"

  private static final int HEADER = 4 + 4 + 4; // magic, body length, crc
  private static final int FIXED_BODY = 8 + 8 + 4 + 4 + 8 + 8 + 8 + 4 + 4;

  /** The bytes this record takes in a file. */
  public int encodedSize() {
    return HEADER + FIXED_BODY + data.remaining();
  }

  /** This record, for file number {@code fileSeq}, in a buffer of its own, ready to write. */
  public ByteBuffer encode(long fileSeq) {
    ByteBuffer out = ByteBuffer.allocate(encodedSize());
    encodeInto(out, fileSeq);
    return out.flip();
  }

  /**
   * Puts this record, for file number {@code fileSeq}, at {@code out}'s position (which must have
   * {@link #encodedSize()} bytes left) and advances it; {@code out} may be direct, so that the
   * writer copies each byte once.
   */
  public void encodeInto(ByteBuffer out, long fileSeq) {
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
    CRC32C crc = named(fileSeq);
    crc.update(out.slice(start + HEADER, bodyLength));
    out.putInt(start + 8, (int) crc.getValue());
  }

  /** A CRC32C that has taken in the file's number: what every current record's CRC starts from. */
  private static CRC32C named(long fileSeq) {
    CRC32C crc = new CRC32C();
    crc.update(ByteBuffer.allocate(Long.BYTES).putLong(0, fileSeq));
    return crc;
  }

  /** The name of WAL file number {@code seq}: zero-padded, so that names sort as numbers do. */
  static String fileName(long seq) {
    return String.format("%020d.wal", seq);
  }

  /** The number a WAL file's name gives it ({@link #fileName}). */
  static long fileSeq(Path file) throws IOException {
    String name = file.getFileName().toString();
    try {
      return Long.parseLong(name.substring(0, name.length() - ".wal".length()));
    } catch (RuntimeException e) {
      throw new IOException("not a volume WAL file name (<number>.wal): " + file, e);
    }
  }

  /**
   * Every intact record of every WAL file ({@code <number>.wal}) of a broker directory, in file
   * order. Files (or the whole directory) removed while this reads were fully committed by their
   * owner, so they are skipped.
   */
  public static List<WalRecord> readDirectory(Path dir) throws IOException {
    List<Path> files;
    try (var list = java.nio.file.Files.list(dir)) {
      // Only names a writer gives (<number>.wal): a record's CRC is checked against that number,
      // and a stray file must not stop every partition's replay.
      files =
          list.filter(f -> WAL_FILE.matcher(f.getFileName().toString()).matches())
              .sorted()
              .toList();
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

  /**
   * Every intact record of a WAL file, in order, stopping at the first torn or corrupt one, the
   * first one written to the file in an earlier life (its CRC names another file), or the first
   * whose format differs from the file's first record.
   */
  public static List<WalRecord> readAll(Path file) throws IOException {
    long fileSeq = fileSeq(file);
    List<WalRecord> out = new ArrayList<>();
    ByteBuffer all;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      all = ByteBuffer.allocate(Math.toIntExact(ch.size()));
      while (all.hasRemaining() && ch.read(all) >= 0) {
        // keep reading
      }
      all.flip();
    }
    int magic = all.remaining() >= HEADER ? all.getInt(0) : 0;
    while (all.remaining() >= HEADER) {
      int pos = all.position();
      if (all.getInt(pos) != magic || (magic != MAGIC && magic != MAGIC_UNNAMED)) {
        break;
      }
      int bodyLength = all.getInt(pos + 4);
      if (bodyLength < FIXED_BODY || bodyLength > all.remaining() - HEADER) {
        break;
      }
      CRC32C crc = magic == MAGIC ? named(fileSeq) : new CRC32C();
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
