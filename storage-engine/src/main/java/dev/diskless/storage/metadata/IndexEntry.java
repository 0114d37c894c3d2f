package dev.diskless.storage.metadata;

/**
 * A contiguous run of one partition's batches inside one object: offsets {@code
 * baseOffset..lastOffset} are the bytes {@code [position, position + size)} of {@code objectKey}.
 */
public record IndexEntry(
    long baseOffset,
    long lastOffset,
    long maxTimestamp,
    int batchCount,
    String objectKey,
    long position,
    int size) {}
