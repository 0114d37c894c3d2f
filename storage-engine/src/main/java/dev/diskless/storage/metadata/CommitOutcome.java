package dev.diskless.storage.metadata;

/** What the metadata store decided for one partition of a WAL flush. */
public enum CommitOutcome {
  /** Committed: the high watermark moved past the batches. */
  COMMITTED,
  /** Another broker owns the partition, or the epoch moved on: this broker must drop it. */
  FENCED,
  /** The committed high watermark is not where this broker expected it: reload state and retry. */
  DIVERGED,
  /** The partition or its topic no longer exists. */
  UNKNOWN
}
