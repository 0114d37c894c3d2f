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
 * The metadata side of compaction: which partitions have WAL entries worth merging, which WAL
 * objects are oldest, and the single transaction that swaps a run of WAL entries for the chunks of
 * one segment object (or one partition's share of a merged object). The swap checks that the run is
 * still exactly as read (retention or another compactor may have changed it) and does nothing
 * otherwise.
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
    if (!lockPartition(c, tp)) {
      return false;
    }
    if (!IndexRows.deleteExactly(c, tp, run)) {
      c.rollback();
      return false;
    }
    IndexRows.insertObject(c, segmentKey, "SEGMENT", segmentSize, segmentSize, node);
    insertChunks(c, tp, chunks);
    return true;
  }

  /**
   * Locks the partition row, so that appends and retention of this partition serialise with a swap;
   * false if the partition is gone.
   */
  private static boolean lockPartition(Connection c, TopicPartitionId tp) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT 1 FROM partitions WHERE topic_id = ? AND partition = ? FOR UPDATE")) {
      ps.setObject(1, tp.topicId());
      ps.setInt(2, tp.partition());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static void insertChunks(Connection c, TopicPartitionId tp, List<IndexEntry> chunks)
      throws SQLException {
    try (PreparedStatement ins = c.prepareStatement(IndexRows.INSERT_INDEX)) {
      for (IndexEntry e : chunks) {
        IndexRows.addIndexRow(ins, tp, e);
      }
      ins.executeBatch();
    }
  }

  /**
   * The oldest live WAL objects (by commit time) holding entries of partitions {@code node} owns
   * that have at least {@code minPartitionBytes} in two or more live WAL entries, at most {@code
   * limit}, with every index entry that still points into them, in object order: what merging by
   * WAL object picks its groups from. Objects holding only smaller partitions' entries (a quiet
   * topic's records, the last megabytes of each partition after a burst) are passed over: they are
   * too few to merge, and once they filled the oldest {@code limit} objects no merge saw anything
   * behind them.
   */
  public CompletableFuture<List<WalObject>> oldestWalObjects(
      int node, long minPartitionBytes, int limit) {
    return store.async(
        c -> {
          List<WalObject> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  // The partitions worth merging, then live WAL objects oldest first
                  // (objects_live_wal) holding any of theirs, up to the limit.
                  "WITH busy AS (SELECT b.topic_id, b.partition FROM objects o "
                      + "JOIN batch_index b ON b.object_key = o.object_key "
                      + "JOIN partitions p ON p.topic_id = b.topic_id AND p.partition = b.partition "
                      + "WHERE o.kind = 'WAL' AND o.state = 'LIVE' AND p.owner_node = ? "
                      + "GROUP BY b.topic_id, b.partition "
                      + "HAVING SUM(b.byte_size) >= ? AND COUNT(*) >= 2), "
                      + "oldest AS (SELECT o.object_key, o.size_bytes, o.created_at FROM objects o "
                      + "WHERE o.kind = 'WAL' AND o.state = 'LIVE' AND EXISTS (SELECT 1 FROM batch_index b "
                      + "JOIN busy ON busy.topic_id = b.topic_id AND busy.partition = b.partition "
                      + "WHERE b.object_key = o.object_key) "
                      + "ORDER BY o.created_at, o.object_key LIMIT ?) "
                      + "SELECT o.object_key, o.size_bytes, bi.topic_id, bi.partition, bi.base_offset, "
                      + "bi.last_offset, bi.max_timestamp, bi.batch_count, bi.byte_position, bi.byte_size "
                      + "FROM oldest o JOIN batch_index bi ON bi.object_key = o.object_key "
                      + "ORDER BY o.created_at, o.object_key, bi.byte_position")) {
            ps.setInt(1, node);
            ps.setLong(2, minPartitionBytes);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
              String key = null;
              long size = 0;
              List<PartitionEntry> entries = null;
              while (rs.next()) {
                if (!rs.getString(1).equals(key)) {
                  if (key != null) {
                    out.add(new WalObject(key, size, List.copyOf(entries)));
                  }
                  key = rs.getString(1);
                  size = rs.getLong(2);
                  entries = new ArrayList<>();
                }
                entries.add(
                    new PartitionEntry(
                        new TopicPartitionId(rs.getObject(3, UUID.class), rs.getInt(4)),
                        new IndexEntry(
                            rs.getLong(5),
                            rs.getLong(6),
                            rs.getLong(7),
                            rs.getInt(8),
                            key,
                            rs.getLong(9),
                            rs.getInt(10))));
              }
              if (key != null) {
                out.add(new WalObject(key, size, List.copyOf(entries)));
              }
            }
          }
          return out;
        });
  }

  /**
   * Replaces one partition's {@code entries} (from several WAL objects) by {@code chunks} of the
   * merged object {@code mergedKey}, which holds several partitions. The first partition swapped in
   * creates the object's row ({@code rowExists} false) with its own bytes live; each later one adds
   * its bytes, and only while the object is still LIVE (otherwise its bytes could be deleted under
   * the new index rows). Returns false, changing nothing, when any entry has changed since it was
   * read or the object is no longer LIVE.
   */
  public CompletableFuture<Boolean> swapIntoMerged(
      TopicPartitionId tp,
      List<IndexEntry> entries,
      String mergedKey,
      long mergedSize,
      List<IndexEntry> chunks,
      int node,
      boolean rowExists) {
    long bytes = chunks.stream().mapToLong(IndexEntry::size).sum();
    return store.async(
        c -> {
          if (!lockPartition(c, tp) || !IndexRows.deleteExactly(c, tp, entries)) {
            c.rollback();
            return false;
          }
          if (rowExists) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE objects SET live_bytes = live_bytes + ? WHERE object_key = ? AND state = 'LIVE'")) {
              ps.setLong(1, bytes);
              ps.setString(2, mergedKey);
              if (ps.executeUpdate() != 1) {
                c.rollback();
                return false;
              }
            }
          } else {
            IndexRows.insertObject(c, mergedKey, "SEGMENT", mergedSize, bytes, node);
          }
          insertChunks(c, tp, chunks);
          return true;
        });
  }

  /** One live WAL object and the index entries that still point into it. */
  public record WalObject(String key, long size, List<PartitionEntry> entries) {}

  /** An index entry and its partition. */
  public record PartitionEntry(TopicPartitionId partition, IndexEntry entry) {}

  /** A partition's share of the WAL: what compaction still has to merge. */
  public record PartitionWalBytes(TopicPartitionId partition, int entries, long bytes) {}
}
