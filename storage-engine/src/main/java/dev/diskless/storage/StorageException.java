package dev.diskless.storage;

/**
 * Base of every error the storage engine reports to its caller. Each subclass names one condition
 * the broker maps to exactly one Kafka error code; {@link #retriable()} says whether a client may
 * simply try again.
 */
public class StorageException extends RuntimeException {

  private final Kind kind;

  /** The conditions a caller can react to; the broker maps each to a Kafka error code. */
  public enum Kind {
    /** The batch bytes are malformed or fail their CRC: nothing was written. */
    CORRUPT_BATCH(false),
    /** The batch is larger than the configured limit: nothing was written. */
    BATCH_TOO_LARGE(false),
    /** The partition does not exist in metadata. */
    UNKNOWN_PARTITION(true),
    /** This engine does not (or no longer) own the partition at the given epoch. */
    NOT_OWNER(true),
    /** The caller's leader epoch is older than the partition's current epoch. */
    FENCED_EPOCH(true),
    /**
     * Object storage or the metadata store failed; the append was not acknowledged and may be
     * retried.
     */
    STORAGE_UNAVAILABLE(true),
    /** The requested offset lies outside [log start offset, high watermark]. */
    OFFSET_OUT_OF_RANGE(false),
    /** An idempotent producer used an epoch older than the one recorded for it. */
    INVALID_PRODUCER_EPOCH(false),
    /** An idempotent producer skipped or reordered sequence numbers. */
    OUT_OF_ORDER_SEQUENCE(false),
    /**
     * A producer wrote outside the transaction rules (plain records while its transaction is open).
     */
    INVALID_TXN_STATE(false),
    /** A transaction marker came from a coordinator older than the one that wrote the last one. */
    COORDINATOR_FENCED(false),
    /** The argument is invalid (negative offset, unknown option). */
    INVALID_REQUEST(false),
    /** The change would exceed a configured bound (partitions per topic or per cluster). */
    LIMIT_EXCEEDED(false);

    private final boolean retriable;

    Kind(boolean retriable) {
      this.retriable = retriable;
    }

    public boolean retriable() {
      return retriable;
    }
  }

  public StorageException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public StorageException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  public boolean retriable() {
    return kind.retriable();
  }

  /**
   * Unwraps completion wrappers so that callers can inspect the storage error behind a failed
   * future.
   */
  public static Throwable unwrap(Throwable t) {
    Throwable current = t;
    while ((current instanceof java.util.concurrent.CompletionException
            || current instanceof java.util.concurrent.ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }
}
