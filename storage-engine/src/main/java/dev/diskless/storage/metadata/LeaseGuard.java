package dev.diskless.storage.metadata;

/**
 * Whether this broker may still act on its lease. The volume WAL acknowledges an append only while
 * this holds, because a new owner takes over a partition (without a hand-over) only after the lease
 * has expired.
 */
@FunctionalInterface
public interface LeaseGuard {
  boolean holds();
}
