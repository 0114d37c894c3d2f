package dev.diskless.storage.compaction;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Key → latest offset for one key-compaction run, in a fixed memory budget: each slot holds the
 * key's 128-bit MD5 (as Kafka's log cleaner does, so a collision is as unlikely as there) and an
 * offset, 24 bytes, in open-addressed arrays filled to at most 90 %. When it is full, {@link #put}
 * refuses new keys and the run cleans only the part of the dirty range it mapped; the next run goes
 * on from there (more passes, never more memory).
 */
public final class KeyOffsetMap {

  /** Bytes one slot takes. */
  public static final int BYTES_PER_SLOT = 24;

  private static final double MAX_LOAD = 0.9;

  private final long[] hashHigh;
  private final long[] hashLow;
  private final long[] offsets;
  private final int maxEntries;
  private final MessageDigest md5;
  private int entries;
  // The last key's hash; a map belongs to one run, on one thread.
  private long high;
  private long low;

  /** A map taking at most {@code memoryBytes} (at least 64 slots). */
  public KeyOffsetMap(long memoryBytes) {
    int slots = (int) Math.max(64, Math.min(Integer.MAX_VALUE - 8, memoryBytes / BYTES_PER_SLOT));
    hashHigh = new long[slots];
    hashLow = new long[slots];
    offsets = new long[slots];
    java.util.Arrays.fill(offsets, -1L);
    maxEntries = (int) (slots * MAX_LOAD);
    try {
      md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has MD5", e);
    }
  }

  /**
   * Records {@code offset} as the latest of {@code key} (a later offset of a key already mapped
   * replaces its earlier one). Returns false, changing nothing, when the key is new and the map is
   * full.
   */
  public boolean put(ByteBuffer key, long offset) {
    hash(key);
    int slot = find();
    if (offsets[slot] < 0) {
      if (entries >= maxEntries) {
        return false;
      }
      entries++;
      hashHigh[slot] = high;
      hashLow[slot] = low;
    }
    offsets[slot] = Math.max(offsets[slot], offset);
    return true;
  }

  /** The latest offset mapped for {@code key}, or -1. */
  public long get(ByteBuffer key) {
    hash(key);
    return offsets[find()];
  }

  /** Keys mapped. */
  public int size() {
    return entries;
  }

  /** The memory its arrays take. */
  public long memoryBytes() {
    return (long) offsets.length * BYTES_PER_SLOT;
  }

  /** Keys this map can hold. */
  public int capacity() {
    return maxEntries;
  }

  private void hash(ByteBuffer key) {
    md5.reset();
    md5.update(key.duplicate());
    byte[] d = md5.digest();
    ByteBuffer b = ByteBuffer.wrap(d);
    high = b.getLong();
    low = b.getLong();
  }

  /** The slot holding the current hash, or the empty slot where it would go (linear probing). */
  private int find() {
    int n = offsets.length;
    int slot = (int) Math.floorMod(high ^ low, (long) n);
    while (offsets[slot] >= 0 && (hashHigh[slot] != high || hashLow[slot] != low)) {
      slot = slot + 1 == n ? 0 : slot + 1;
    }
    return slot;
  }
}
