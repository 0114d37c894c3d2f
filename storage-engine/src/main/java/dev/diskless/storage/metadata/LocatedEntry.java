package dev.diskless.storage.metadata;

/**
 * An index entry with what a reader needs to know about the object that holds it: a WAL object
 * mixes many partitions and is small, so a cache may fetch it whole once for all of them; a segment
 * is read by ranges.
 */
public record LocatedEntry(IndexEntry entry, boolean walObject, long objectSize) {}
