package dev.diskless.storage.objectstore;

import java.time.Instant;

/** One object as listed by the store: its full key, size and last modification time. */
public record ObjectInfo(String key, long size, Instant lastModified) {}
