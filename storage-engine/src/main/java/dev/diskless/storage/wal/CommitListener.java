package dev.diskless.storage.wal;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.CommitOutcome;
import dev.diskless.storage.metadata.IndexEntry;
import java.nio.ByteBuffer;

/**
 * Told the fate of every partition of every flush, in commit order and before any append future
 * completes, so that the high watermark and the tail cache are up to date by the time a producer
 * sees its acknowledgement.
 */
public interface CommitListener {

  /**
   * The partition's batches in {@code chunk} (offsets of {@code entry}) are committed at {@code
   * leaderEpoch}.
   */
  void committed(TopicPartitionId partition, int leaderEpoch, IndexEntry entry, ByteBuffer chunk);

  /**
   * Batches already committed through a WAL of their own (the volume WAL's files, where {@link
   * #committed} named them) are now also stored in object storage at {@code entry}, whose bytes
   * {@code chunk} holds. Ignored unless overridden.
   */
  default void stored(
      TopicPartitionId partition, int leaderEpoch, IndexEntry entry, ByteBuffer chunk) {}

  /**
   * The partition's batches were not committed. {@code outcome} is the metadata store's verdict, or
   * null when the upload or the transaction itself failed (and the commit may or may not have
   * happened).
   */
  void failed(TopicPartitionId partition, int leaderEpoch, CommitOutcome outcome, Throwable cause);
}
