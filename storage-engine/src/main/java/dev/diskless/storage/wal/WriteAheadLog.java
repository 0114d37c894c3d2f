package dev.diskless.storage.wal;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionMetadata;
import java.util.concurrent.CompletableFuture;

/**
 * Where appends become durable before they are acknowledged: the object WAL (one object per flush,
 * acknowledged after the metadata commit) or the volume WAL (fsync on a shared volume, acknowledged
 * at once, uploaded later).
 */
public interface WriteAheadLog extends AutoCloseable {

  /**
   * Takes an append in offset order per partition; completes its future when it may be
   * acknowledged.
   */
  void append(PendingAppend append);

  /**
   * As {@link #append(PendingAppend)}; {@code urgent} for an append that others wait on to make
   * progress (a coordinator's write: transaction markers, group state), which the WAL may flush
   * sooner than its batching would.
   */
  default void append(PendingAppend append, boolean urgent) {
    append(append);
  }

  /**
   * Holds back flushes that batching alone would start until the returned hold is closed, so that
   * the appends of one produce request made meanwhile land in one flush and are acknowledged
   * together; size and age bounds still apply, and a WAL may stop waiting for a hold after a short
   * bound. Close it on the thread that made the appends, after the last of them.
   */
  default Hold hold() {
    return Hold.NONE;
  }

  /** A hold from {@link #hold()}; closing it twice is harmless. */
  interface Hold extends AutoCloseable {
    Hold NONE = () -> {};

    @Override
    void close();
  }

  /** Would an append of {@code bytes} be refused now (memory or volume bound)? */
  boolean full(int bytes);

  /** Completes when everything appended so far is durable and committed to metadata. */
  CompletableFuture<Void> flush();

  /**
   * Completes when everything appended so far to {@code partition} is durable and committed to
   * metadata; the caller has stopped appending to it (a hand-over).
   */
  default CompletableFuture<Void> flush(TopicPartitionId partition) {
    return flush();
  }

  /**
   * Before this engine serves a partition it has just become owner of: makes sure metadata holds
   * everything a previous owner acknowledged. The object WAL acknowledges only committed data, so
   * it has nothing to do.
   */
  default CompletableFuture<Void> recover(PartitionMetadata partition) {
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Stops at once, as a crash would, waiting for nothing (a broker whose lease is lost must not
   * wait on a metadata store that may be down): appends not yet acknowledged fail; what was
   * acknowledged stays where the next owner finds it.
   */
  void halt();

  @Override
  void close();
}
