package dev.diskless.storage.compaction;

import dev.diskless.storage.metadata.IndexEntry;
import java.util.List;
import java.util.Optional;

/**
 * Which part of a partition's log one key-compaction run may clean, decided as Kafka's log cleaner
 * decides it, over index entries instead of segment files.
 *
 * <ul>
 *   <li>The <em>active part</em> is never cleaned: the newest entry, and before it the entries
 *       that, with everything after them, hold at most {@code segment.bytes} and are younger than
 *       {@code segment.ms} (by their largest timestamp) — the data Kafka's active segment would
 *       hold.
 *   <li>Nor is anything from the first entry younger than {@code min.compaction.lag.ms} on.
 *   <li>The <em>dirty</em> entries are those from the first dirty offset (the checkpoint) to that
 *       end; the <em>clean</em> ones come before. A run is due when dirty bytes / (clean + dirty
 *       bytes) exceeds {@code min.cleanable.dirty.ratio}, or when the oldest dirty entry is older
 *       than {@code max.compaction.lag.ms}.
 * </ul>
 *
 * @param endIndex entries {@code [0, endIndex)} may be rewritten
 * @param endOffset offsets below it may be cleaned: the base offset of entry {@code endIndex}
 * @param firstDirtyIndex the first entry holding a dirty offset
 * @param cleanBytes bytes of the entries before the dirty ones
 * @param dirtyBytes bytes of the dirty entries
 * @param forced whether {@code max.compaction.lag.ms} made the run due
 * @param due whether a run is due: the dirty ratio exceeds {@code min.cleanable.dirty.ratio}, or
 *     forced
 * @param oldestDirtyTimestamp the largest timestamp of the oldest dirty entry (for the compaction
 *     lag metric)
 */
public record CleanableRange(
    int endIndex,
    long endOffset,
    int firstDirtyIndex,
    long cleanBytes,
    long dirtyBytes,
    boolean forced,
    boolean due,
    long oldestDirtyTimestamp) {

  /** The dirty share of the cleanable bytes. */
  public double dirtyRatio() {
    long total = cleanBytes + dirtyBytes;
    return total == 0 ? 0 : (double) dirtyBytes / total;
  }

  /**
   * The cleanable range, or empty when nothing is cleanable; {@link #due()} says whether a run
   * should clean it now. {@code entries} are the log's index entries in offset order from the log
   * start. Nothing at or past {@code lastStableOffset} is cleanable (as Kafka's first uncleanable
   * offset): a transaction still open there may yet be aborted.
   */
  public static Optional<CleanableRange> of(
      List<IndexEntry> entries,
      long firstDirtyOffset,
      long lastStableOffset,
      KeyCompactionPolicy policy,
      long nowMs) {
    int n = entries.size();
    if (n < 2) {
      return Optional.empty();
    }
    // The active part: the newest entry, then back while it stays within segment.bytes/ms.
    int activeStart = n - 1;
    long activeBytes = entries.get(n - 1).size();
    while (activeStart > 0) {
      IndexEntry e = entries.get(activeStart - 1);
      if (activeBytes + e.size() > policy.segmentBytes()
          || nowMs - e.maxTimestamp() >= policy.segmentMs()) {
        break;
      }
      activeBytes += e.size();
      activeStart--;
    }
    int end = activeStart;
    while (end > 0 && entries.get(end - 1).lastOffset() >= lastStableOffset) {
      end--;
    }
    int firstDirty = n;
    for (int i = 0; i < n; i++) {
      if (entries.get(i).lastOffset() >= firstDirtyOffset) {
        firstDirty = i;
        break;
      }
    }
    for (int i = firstDirty; i < end; i++) {
      if (entries.get(i).maxTimestamp() > nowMs - policy.minCompactionLagMs()) {
        end = i;
        break;
      }
    }
    if (firstDirty >= end) {
      return Optional.empty();
    }
    long clean = 0;
    for (int i = 0; i < firstDirty; i++) {
      clean += entries.get(i).size();
    }
    long dirty = 0;
    for (int i = firstDirty; i < end; i++) {
      dirty += entries.get(i).size();
    }
    boolean forced =
        policy.maxCompactionLagMs() < Long.MAX_VALUE
            && nowMs - entries.get(firstDirty).maxTimestamp() > policy.maxCompactionLagMs();
    double ratio = clean + dirty == 0 ? 0 : (double) dirty / (clean + dirty);
    return Optional.of(
        new CleanableRange(
            end,
            entries.get(end).baseOffset(),
            firstDirty,
            clean,
            dirty,
            forced,
            forced || ratio > policy.minCleanableDirtyRatio(),
            entries.get(firstDirty).maxTimestamp()));
  }
}
