package dev.diskless.storage.metadata;

/** One recent batch of an idempotent producer: its sequence range and where it was written. */
public record ProducerBatch(
    int firstSequence, int lastSequence, long baseOffset, long lastOffset) {}
