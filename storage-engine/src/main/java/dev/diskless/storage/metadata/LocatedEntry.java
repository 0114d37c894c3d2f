package dev.diskless.storage.metadata;

import java.util.ArrayList;
import java.util.List;

/**
 * An index entry with what a reader needs to know about the object that holds it: a WAL object
 * mixes many partitions and is small, so a cache may fetch it whole once for all of them; a segment
 * is read by ranges. {@code [runStart, runEnd)} are the bytes of the same partition's entries that
 * lie next to this one in the object, as far as the look-up that found it saw ({@link #withRuns}):
 * a merged object holds each partition's entries as one contiguous run, which a catch-up reader can
 * read without the other partitions' bytes around it. Without a look-up no run is known (empty).
 */
public record LocatedEntry(
    IndexEntry entry, boolean walObject, long objectSize, long runStart, long runEnd) {

  public LocatedEntry(IndexEntry entry, boolean walObject, long objectSize) {
    this(entry, walObject, objectSize, entry.position(), entry.position());
  }

  /**
   * {@code entries}, one partition's in offset order as a look-up returns them, each with its run:
   * the entries before and after it that continue it byte for byte in the same object.
   */
  public static List<LocatedEntry> withRuns(List<LocatedEntry> entries) {
    List<LocatedEntry> out = new ArrayList<>(entries.size());
    int from = 0;
    while (from < entries.size()) {
      int to = from + 1;
      while (to < entries.size()
          && continues(entries.get(to - 1).entry(), entries.get(to).entry())) {
        to++;
      }
      long start = entries.get(from).entry().position();
      IndexEntry last = entries.get(to - 1).entry();
      long end = last.position() + last.size();
      for (LocatedEntry e : entries.subList(from, to)) {
        out.add(new LocatedEntry(e.entry(), e.walObject(), e.objectSize(), start, end));
      }
      from = to;
    }
    return out;
  }

  private static boolean continues(IndexEntry before, IndexEntry after) {
    return before.objectKey().equals(after.objectKey())
        && before.position() + before.size() == after.position();
  }
}
