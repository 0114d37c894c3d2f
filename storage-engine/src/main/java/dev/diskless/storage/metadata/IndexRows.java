package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/** Writing an object's row and its index rows: the same for a WAL commit and a compaction swap. */
final class IndexRows {

  static final String INSERT_INDEX =
      "INSERT INTO batch_index (topic_id, partition, base_offset, last_offset, max_timestamp, batch_count, "
          + "object_key, byte_position, byte_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

  private IndexRows() {}

  static void insertObject(
      Connection c, String key, String kind, long size, long liveBytes, int node)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO objects (object_key, kind, size_bytes, live_bytes, state, created_by) "
                + "VALUES (?, ?, ?, ?, 'LIVE', ?)")) {
      ps.setString(1, key);
      ps.setString(2, kind);
      ps.setLong(3, size);
      ps.setLong(4, liveBytes);
      ps.setInt(5, node);
      ps.executeUpdate();
    }
  }

  /**
   * Deletes exactly these index rows of {@code tp} and takes their bytes off their objects' live
   * bytes, marking those left without live bytes for deletion. Returns false when any of them is no
   * longer there (another writer changed the log since it was read); the caller then rolls back.
   */
  static boolean deleteExactly(Connection c, TopicPartitionId tp, List<IndexEntry> entries)
      throws SQLException {
    int deleted = 0;
    try (PreparedStatement del =
            c.prepareStatement(
                "DELETE FROM batch_index WHERE topic_id = ? AND partition = ? AND base_offset = ? AND object_key = ? "
                    + "AND byte_position = ? AND byte_size = ?");
        PreparedStatement live =
            c.prepareStatement(
                "UPDATE objects SET live_bytes = live_bytes - ? WHERE object_key = ?")) {
      for (IndexEntry e : entries) {
        del.setObject(1, tp.topicId());
        del.setInt(2, tp.partition());
        del.setLong(3, e.baseOffset());
        del.setString(4, e.objectKey());
        del.setLong(5, e.position());
        del.setInt(6, e.size());
        del.addBatch();
        live.setLong(1, e.size());
        live.setString(2, e.objectKey());
        live.addBatch();
      }
      // One batch, not a statement per entry: a merge replaces some seventy entries per
      // partition, and a round trip each was most of what its swap cost.
      for (int count : del.executeBatch()) {
        deleted += count;
      }
      if (deleted != entries.size()) {
        return false;
      }
      live.executeBatch();
    }
    // Only these objects lost bytes here; looking them up by key is what a merge can afford,
    // unlike a scan of every live object per swap.
    ObjectLifecycle.markUnreferenced(
        c, entries.stream().map(IndexEntry::objectKey).distinct().toArray(String[]::new));
    return true;
  }

  /** Adds one index row to a batch of {@link #INSERT_INDEX}. */
  static void addIndexRow(PreparedStatement insert, TopicPartitionId tp, IndexEntry e)
      throws SQLException {
    insert.setObject(1, tp.topicId());
    insert.setInt(2, tp.partition());
    insert.setLong(3, e.baseOffset());
    insert.setLong(4, e.lastOffset());
    insert.setLong(5, e.maxTimestamp());
    insert.setInt(6, e.batchCount());
    insert.setString(7, e.objectKey());
    insert.setLong(8, e.position());
    insert.setInt(9, e.size());
    insert.addBatch();
  }
}
