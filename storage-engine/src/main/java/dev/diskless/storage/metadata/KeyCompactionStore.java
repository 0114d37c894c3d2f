package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The metadata side of key compaction (cleanup.policy=compact): a partition's bounds, its cleaner
 * checkpoint ({@code cleaned_offset}) and index, read together; and the one transaction that
 * replaces the index rows of a cleaned range by the rows of the objects written for it and moves
 * the checkpoint. The swap is fenced like a commit — it applies only while {@code node} still owns
 * the partition at the epoch the run started under — and only if every replaced row is still there.
 */
public final class KeyCompactionStore {

  private final MetadataStore store;

  public KeyCompactionStore(MetadataStore store) {
    this.store = store;
  }

  /** What a run needs to know about a partition, read in one transaction. */
  public record CleaningState(
      long logStartOffset, long highWatermark, long cleanedOffset, List<IndexEntry> entries) {

    /** The first offset not yet compacted: Kafka's first dirty offset. */
    public long firstDirtyOffset() {
      return Math.max(cleanedOffset, logStartOffset);
    }
  }

  /** An object a run wrote, and the index rows that point into it. */
  public record CleanedObject(String key, long size, List<IndexEntry> chunks) {}

  /**
   * The partition's state as owned by {@code node} at {@code leaderEpoch}, with its committed index
   * entries from the log start on (at most {@code maxEntries}); empty if it is not so owned.
   */
  public CompletableFuture<Optional<CleaningState>> state(
      TopicPartitionId tp, int node, int leaderEpoch, int maxEntries) {
    return store.async(
        c -> {
          long logStart;
          long hw;
          long cleaned;
          try (PreparedStatement ps =
              ownedRow(
                  c,
                  "log_start_offset, high_watermark, cleaned_offset",
                  tp,
                  node,
                  leaderEpoch,
                  "")) {
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              logStart = rs.getLong(1);
              hw = rs.getLong(2);
              cleaned = rs.getLong(3);
            }
          }
          List<IndexEntry> entries = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT base_offset, last_offset, max_timestamp, batch_count, object_key, byte_position, byte_size "
                      + "FROM batch_index WHERE topic_id = ? AND partition = ? AND last_offset >= ? "
                      + "AND base_offset < ? ORDER BY base_offset LIMIT ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setLong(3, logStart);
            ps.setLong(4, hw);
            ps.setInt(5, maxEntries);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                entries.add(
                    new IndexEntry(
                        rs.getLong(1),
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getInt(4),
                        rs.getString(5),
                        rs.getLong(6),
                        rs.getInt(7)));
              }
            }
          }
          return Optional.of(new CleaningState(logStart, hw, cleaned, entries));
        });
  }

  /**
   * Replaces {@code replaced} by the rows of {@code written} and sets the checkpoint to {@code
   * cleanedOffset}, if {@code node} still owns {@code tp} at {@code leaderEpoch} and every replaced
   * row is still in the index; returns false, changing nothing, otherwise.
   */
  public CompletableFuture<Boolean> swap(
      TopicPartitionId tp,
      int node,
      int leaderEpoch,
      List<IndexEntry> replaced,
      List<CleanedObject> written,
      long cleanedOffset) {
    return store.async(c -> swap(c, tp, node, leaderEpoch, replaced, written, cleanedOffset));
  }

  private static boolean swap(
      Connection c,
      TopicPartitionId tp,
      int node,
      int leaderEpoch,
      List<IndexEntry> replaced,
      List<CleanedObject> written,
      long cleanedOffset)
      throws SQLException {
    // The row lock serialises the swap with this partition's commits, retention and moves.
    try (PreparedStatement ps = ownedRow(c, "1", tp, node, leaderEpoch, " FOR UPDATE")) {
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
      }
    }
    if (!IndexRows.deleteExactly(c, tp, replaced)) {
      c.rollback();
      return false;
    }
    try (PreparedStatement ins = c.prepareStatement(IndexRows.INSERT_INDEX)) {
      for (CleanedObject o : written) {
        IndexRows.insertObject(c, o.key(), "SEGMENT", o.size(), o.size(), node);
        for (IndexEntry e : o.chunks()) {
          IndexRows.addIndexRow(ins, tp, e);
        }
      }
      ins.executeBatch();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE partitions SET cleaned_offset = GREATEST(cleaned_offset, ?) "
                + "WHERE topic_id = ? AND partition = ?")) {
      ps.setLong(1, cleanedOffset);
      ps.setObject(2, tp.topicId());
      ps.setInt(3, tp.partition());
      ps.executeUpdate();
    }
    return true;
  }

  /**
   * The partition's row if {@code node} owns it at {@code leaderEpoch}: both the read and the swap
   * act only for the owner at the epoch the run started under.
   */
  private static PreparedStatement ownedRow(
      Connection c,
      String columns,
      TopicPartitionId tp,
      int node,
      int leaderEpoch,
      String lockClause)
      throws SQLException {
    PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + columns
                + " FROM partitions WHERE topic_id = ? AND partition = ? AND owner_node = ? "
                + "AND leader_epoch = ?"
                + lockClause);
    try {
      ps.setObject(1, tp.topicId());
      ps.setInt(2, tp.partition());
      ps.setInt(3, node);
      ps.setInt(4, leaderEpoch);
      return ps;
    } catch (SQLException e) {
      ps.close();
      throw e;
    }
  }
}
