package dev.diskless.storage.metadata;

/**
 * One aborted transaction on a partition, as Kafka's transaction index keeps it: the producer, the
 * offset of its transaction's first record there, and the offset of the ABORT marker. A
 * read_committed reader skips that producer's transactional records from {@code firstOffset} up to
 * the marker.
 */
public record AbortedTransaction(long producerId, long firstOffset, long lastOffset) {}
