package dev.diskless.storage.compaction;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Key → latest offset for one key-compaction run, in a fixed memory budget: each slot holds the
 * key's 128-bit MD5 (as Kafka's log cleaner does, so a collision is as unlikely as there) and an
 * offset, 24 bytes, in one open-addressed table filled to at most 90 %. When it is full, {@link
 * #put} refuses new keys and the run cleans only the part of the dirty range it mapped; the next
 * run goes on from there (more passes, never more memory).
 */
public final class KeyOffsetMap {

  /** Bytes one slot takes. */
  public static final int BYTES_PER_SLOT = 24;

  private static final double MAX_LOAD = 0.9;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  // Slot i is table[3i] and table[3i + 1] (the hash) and table[3i + 2] (the offset, -1 if empty):
  // one slot is one cache line or two, where three arrays cost a miss each on every probe.
  private final long[] table;
  private final int slots;
  private final int maxEntries;
  private final MessageDigest md5;
  private final byte[] digest = new byte[16];
  // Keys of read-only buffers are copied here to be hashed: MessageDigest copies them through a
  // fresh array otherwise.
  private byte[] scratch = new byte[256];
  private int entries;
  // The last key's hash; a map belongs to one run, on one thread.
  private long high;
  private long low;

  /** A map taking at most {@code memoryBytes} (at least 64 slots). */
  public KeyOffsetMap(long memoryBytes) {
    slots = (int) Math.max(64, Math.min((Integer.MAX_VALUE - 8) / 3, memoryBytes / BYTES_PER_SLOT));
    table = new long[slots * 3];
    for (int i = 2; i < table.length; i += 3) {
      table[i] = -1L;
    }
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
    int i = find();
    if (table[i + 2] < 0) {
      if (entries >= maxEntries) {
        return false;
      }
      entries++;
      table[i] = high;
      table[i + 1] = low;
    }
    table[i + 2] = Math.max(table[i + 2], offset);
    return true;
  }

  /** The latest offset mapped for {@code key}, or -1. */
  public long get(ByteBuffer key) {
    hash(key);
    return table[find() + 2];
  }

  /** Keys mapped. */
  public int size() {
    return entries;
  }

  /** The memory its table takes. */
  public long memoryBytes() {
    return (long) slots * BYTES_PER_SLOT;
  }

  /** Keys this map can hold. */
  public int capacity() {
    return maxEntries;
  }

  private void hash(ByteBuffer key) {
    int length = key.remaining();
    if (key.hasArray()) {
      md5.update(key.array(), key.arrayOffset() + key.position(), length);
    } else {
      if (scratch.length < length) {
        scratch = new byte[Math.max(length, scratch.length * 2)];
      }
      key.get(key.position(), scratch, 0, length);
      md5.update(scratch, 0, length);
    }
    try {
      md5.digest(digest, 0, digest.length);
    } catch (DigestException e) {
      throw new IllegalStateException("an MD5 digest is 16 bytes", e);
    }
    high = (long) LONGS.get(digest, 0);
    low = (long) LONGS.get(digest, 8);
  }

  /**
   * The table index of the slot holding the current hash, or of the empty slot where it would go
   * (linear probing).
   */
  private int find() {
    int i = 3 * (int) Math.floorMod(high ^ low, (long) slots);
    while (table[i + 2] >= 0 && (table[i] != high || table[i + 1] != low)) {
      i += 3;
      if (i == table.length) {
        i = 0;
      }
    }
    return i;
  }
}
