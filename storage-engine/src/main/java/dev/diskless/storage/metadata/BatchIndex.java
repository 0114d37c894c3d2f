package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Look-ups in the offset-to-object index. Every scan is bounded by a row limit and by the high
 * watermark, so a reader never sees a batch above it even if a commit lands while it reads.
 */
public final class BatchIndex {

  /** Index columns with the kind and size of the object holding them. */
  private static final String SELECT_ENTRIES =
      "SELECT bi.base_offset, bi.last_offset, bi.max_timestamp, bi.batch_count, bi.object_key, "
          + "bi.byte_position, bi.byte_size, o.kind, o.size_bytes FROM batch_index bi "
          + "JOIN objects o ON o.object_key = bi.object_key ";

  private final MetadataStore store;

  public BatchIndex(MetadataStore store) {
    this.store = store;
  }

  /**
   * The stored bytes of every live partition that metadata says {@code node} owns (0 for one with
   * nothing stored): what DescribeLogDirs reports, in one query.
   */
  public CompletableFuture<Map<TopicPartitionId, Long>> bytesOwnedBy(int node) {
    return store.async(
        c -> {
          Map<TopicPartitionId, Long> out = new HashMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT p.topic_id, p.partition, COALESCE(SUM(bi.byte_size), 0) FROM partitions p"
                      + " JOIN topics t ON t.topic_id = p.topic_id AND t.state = 'LIVE'"
                      + " LEFT JOIN batch_index bi"
                      + " ON bi.topic_id = p.topic_id AND bi.partition = p.partition"
                      + " WHERE p.owner_node = ? GROUP BY p.topic_id, p.partition")) {
            ps.setInt(1, node);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(
                    new TopicPartitionId(rs.getObject(1, UUID.class), rs.getInt(2)), rs.getLong(3));
              }
            }
          }
          return out;
        });
  }

  /**
   * Index entries holding offsets from {@code offset} (inclusive) below {@code highWatermark}, in
   * order.
   */
  public CompletableFuture<List<LocatedEntry>> find(
      TopicPartitionId tp, long offset, long highWatermark, int maxEntries) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  SELECT_ENTRIES
                      + "WHERE bi.topic_id = ? AND bi.partition = ? AND bi.last_offset >= ? "
                      + "AND bi.base_offset < ? ORDER BY bi.base_offset LIMIT ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setLong(3, offset);
            ps.setLong(4, highWatermark);
            ps.setInt(5, maxEntries);
            return entries(ps);
          }
        });
  }

  /**
   * The first entry at or after {@code fromOffset} holding a batch whose max timestamp is >= {@code
   * timestamp}.
   */
  public CompletableFuture<Optional<LocatedEntry>> firstWithTimestamp(
      TopicPartitionId tp, long fromOffset, long timestamp) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  SELECT_ENTRIES
                      + "WHERE bi.topic_id = ? AND bi.partition = ? AND bi.last_offset >= ? "
                      + "AND bi.max_timestamp >= ? ORDER BY bi.base_offset LIMIT 1")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setLong(3, fromOffset);
            ps.setLong(4, timestamp);
            return entries(ps).stream().findFirst();
          }
        });
  }

  /**
   * The largest max timestamp of the partition, with the entry holding it (for ListOffsets
   * MAX_TIMESTAMP).
   */
  public CompletableFuture<Optional<LocatedEntry>> withMaxTimestamp(
      TopicPartitionId tp, long fromOffset) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  SELECT_ENTRIES
                      + "WHERE bi.topic_id = ? AND bi.partition = ? AND bi.last_offset >= ? "
                      + "ORDER BY bi.max_timestamp DESC, bi.base_offset LIMIT 1")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setLong(3, fromOffset);
            return entries(ps).stream().findFirst();
          }
        });
  }

  private static List<LocatedEntry> entries(PreparedStatement ps) throws SQLException {
    List<LocatedEntry> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new LocatedEntry(
                new IndexEntry(
                    rs.getLong(1),
                    rs.getLong(2),
                    rs.getLong(3),
                    rs.getInt(4),
                    rs.getString(5),
                    rs.getLong(6),
                    rs.getInt(7)),
                "WAL".equals(rs.getString(8)),
                rs.getLong(9)));
      }
    }
    return out;
  }
}
