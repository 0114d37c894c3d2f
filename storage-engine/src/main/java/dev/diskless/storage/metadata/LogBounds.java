package dev.diskless.storage.metadata;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.CompletableFuture;

/**
 * Moves a partition's log start offset forward (DeleteRecords, retention). Index rows wholly below
 * it are removed in the same transaction and the live bytes of their objects reduced; objects left
 * with no live bytes are marked for deletion after a grace period, so readers that looked them up
 * just before can still finish.
 */
public final class LogBounds {

  private final MetadataStore store;

  public LogBounds(MetadataStore store) {
    this.store = store;
  }

  /**
   * Epoch-checked: only the owner at {@code leaderEpoch} may truncate. Returns the resulting log
   * start offset.
   */
  public CompletableFuture<Long> advanceLogStartOffset(
      TopicPartitionId tp, int owner, int leaderEpoch, long offset) {
    return store.async(
        c -> {
          long lso;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE partitions SET log_start_offset = GREATEST(log_start_offset, LEAST(?, high_watermark)) "
                      + "WHERE topic_id = ? AND partition = ? AND owner_node = ? AND leader_epoch = ? "
                      + "RETURNING log_start_offset")) {
            ps.setLong(1, offset);
            ps.setObject(2, tp.topicId());
            ps.setInt(3, tp.partition());
            ps.setInt(4, owner);
            ps.setInt(5, leaderEpoch);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new StorageException(
                    Kind.NOT_OWNER,
                    "partition "
                        + tp
                        + " is not owned by node "
                        + owner
                        + " at epoch "
                        + leaderEpoch);
              }
              lso = rs.getLong(1);
            }
          }
          removeIndexBelow(c, tp, lso);
          return lso;
        });
  }

  static void removeIndexBelow(java.sql.Connection c, TopicPartitionId tp, long logStartOffset)
      throws java.sql.SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "WITH gone AS (DELETE FROM batch_index WHERE topic_id = ? AND partition = ? AND last_offset < ? "
                + "RETURNING object_key, byte_size), "
                + "per_object AS (SELECT object_key, SUM(byte_size) AS bytes FROM gone GROUP BY object_key) "
                + "UPDATE objects o SET live_bytes = o.live_bytes - per_object.bytes FROM per_object "
                + "WHERE o.object_key = per_object.object_key")) {
      ps.setObject(1, tp.topicId());
      ps.setInt(2, tp.partition());
      ps.setLong(3, logStartOffset);
      ps.executeUpdate();
    }
    AbortedTransactions.removeBelow(c, tp, logStartOffset);
    ObjectLifecycle.markUnreferenced(c);
  }
}
