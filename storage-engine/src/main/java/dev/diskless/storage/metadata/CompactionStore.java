package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The metadata side of compaction: which partitions have WAL entries worth merging, and the single
 * transaction that swaps a run of WAL entries for the chunks of one segment object. The swap checks
 * that the run is still exactly as read (retention or another compactor may have changed it) and
 * does nothing otherwise.
 */
public final class CompactionStore {

  private final MetadataStore store;

  public CompactionStore(MetadataStore store) {
    this.store = store;
  }

  /** WAL bytes of each partition (the compaction lag), largest first. */
  public CompletableFuture<List<PartitionWalBytes>> walBytesByPartition(int limit) {
    return store.async(
        c -> {
          List<PartitionWalBytes> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT bi.topic_id, bi.partition, COUNT(*), SUM(bi.byte_size) FROM batch_index bi "
                      + "JOIN objects o ON o.object_key = bi.object_key WHERE o.kind = 'WAL' "
                      + "GROUP BY bi.topic_id, bi.partition ORDER BY SUM(bi.byte_size) DESC LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new PartitionWalBytes(
                        new TopicPartitionId(rs.getObject(1, UUID.class), rs.getInt(2)),
                        rs.getInt(3),
                        rs.getLong(4)));
              }
            }
          }
          return out;
        });
  }

  /**
   * Entries of one partition from its first WAL entry on, in offset order, while they are WAL
   * entries.
   */
  public CompletableFuture<List<IndexEntry>> walRun(TopicPartitionId tp, long maxBytes) {
    return store.async(
        c -> {
          List<IndexEntry> run = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT bi.base_offset, bi.last_offset, bi.max_timestamp, bi.batch_count, bi.object_key, "
                      + "bi.byte_position, bi.byte_size, o.kind FROM batch_index bi JOIN objects o ON o.object_key = bi.object_key "
                      + "WHERE bi.topic_id = ? AND bi.partition = ? AND bi.base_offset >= COALESCE(("
                      + "SELECT MIN(b2.base_offset) FROM batch_index b2 JOIN objects o2 ON o2.object_key = b2.object_key "
                      + "WHERE b2.topic_id = ? AND b2.partition = ? AND o2.kind = 'WAL'), 0) "
                      + "ORDER BY bi.base_offset LIMIT 10000")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setObject(3, tp.topicId());
            ps.setInt(4, tp.partition());
            long total = 0;
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next() && total < maxBytes) {
                if (!"WAL".equals(rs.getString(8))) {
                  break;
                }
                IndexEntry e =
                    new IndexEntry(
                        rs.getLong(1),
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getInt(4),
                        rs.getString(5),
                        rs.getLong(6),
                        rs.getInt(7));
                if (!run.isEmpty() && run.get(run.size() - 1).lastOffset() + 1 != e.baseOffset()) {
                  break;
                }
                run.add(e);
                total += e.size();
              }
            }
          }
          return run;
        });
  }

  /**
   * Replaces {@code run} by {@code chunks} of the new segment object {@code segmentKey}, if every
   * entry of the run is still in the index. Returns false (and changes nothing) otherwise.
   */
  public CompletableFuture<Boolean> swap(
      TopicPartitionId tp,
      List<IndexEntry> run,
      String segmentKey,
      long segmentSize,
      List<IndexEntry> chunks,
      int node) {
    return store.async(c -> swap(c, tp, run, segmentKey, segmentSize, chunks, node));
  }

  private static boolean swap(
      Connection c,
      TopicPartitionId tp,
      List<IndexEntry> run,
      String segmentKey,
      long segmentSize,
      List<IndexEntry> chunks,
      int node)
      throws SQLException {
    // Lock the partition row: appends and retention of this partition serialise with the swap.
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT 1 FROM partitions WHERE topic_id = ? AND partition = ? FOR UPDATE")) {
      ps.setObject(1, tp.topicId());
      ps.setInt(2, tp.partition());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
      }
    }
    if (!IndexRows.deleteExactly(c, tp, run)) {
      c.rollback();
      return false;
    }
    IndexRows.insertObject(c, segmentKey, "SEGMENT", segmentSize, segmentSize, node);
    try (PreparedStatement ins = c.prepareStatement(IndexRows.INSERT_INDEX)) {
      for (IndexEntry e : chunks) {
        IndexRows.addIndexRow(ins, tp, e);
      }
      ins.executeBatch();
    }
    ObjectLifecycle.markUnreferenced(c);
    return true;
  }

  /** A partition's share of the WAL: what compaction still has to merge. */
  public record PartitionWalBytes(TopicPartitionId partition, int entries, long bytes) {}
}
