package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * Where retention would put a partition's log start offset. Both rules work on whole index entries,
 * as Kafka's work on whole segments: an entry goes only when all of it is past the limit, and only
 * from the oldest end.
 */
public final class RetentionStore {

  private final MetadataStore store;

  public RetentionStore(MetadataStore store) {
    this.store = store;
  }

  /**
   * By time: the first entry holding a record not older than {@code cutoffMs}. Empty when the
   * oldest entry must stay; {@code highWatermark} when every entry is older.
   */
  public CompletableFuture<OptionalLong> timeCutoff(
      TopicPartitionId tp, long cutoffMs, long highWatermark) {
    return cutoff(
        tp,
        "SELECT MIN(base_offset) FILTER (WHERE max_timestamp >= ?), MIN(base_offset) FROM batch_index "
            + "WHERE topic_id = ? AND partition = ?",
        cutoffMs,
        highWatermark);
  }

  /**
   * By size: an entry is dropped when the entries newer than it already hold {@code
   * retentionBytes}. Empty when the oldest entry must stay.
   */
  public CompletableFuture<OptionalLong> sizeCutoff(
      TopicPartitionId tp, long retentionBytes, long highWatermark) {
    return cutoff(
        tp,
        "SELECT MIN(base_offset) FILTER (WHERE newer < ?), MIN(base_offset) FROM (SELECT base_offset, "
            + "SUM(byte_size) OVER (ORDER BY base_offset DESC) - byte_size AS newer FROM batch_index "
            + "WHERE topic_id = ? AND partition = ?) s",
        retentionBytes,
        highWatermark);
  }

  private CompletableFuture<OptionalLong> cutoff(
      TopicPartitionId tp, String sql, long limit, long highWatermark) {
    return store.async(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, limit);
            ps.setObject(2, tp.topicId());
            ps.setInt(3, tp.partition());
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return decide(rs, highWatermark);
            }
          }
        });
  }

  private static OptionalLong decide(ResultSet rs, long highWatermark) throws SQLException {
    long firstKept = rs.getLong(1);
    boolean noneKept = rs.wasNull();
    long first = rs.getLong(2);
    if (rs.wasNull()) {
      return OptionalLong.empty();
    }
    if (noneKept) {
      return OptionalLong.of(highWatermark);
    }
    return firstKept == first ? OptionalLong.empty() : OptionalLong.of(firstKept);
  }
}
