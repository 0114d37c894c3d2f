package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits one WAL object in one PostgreSQL transaction: locks the partition rows in a fixed order
 * (no deadlocks between brokers), checks owner, epoch and high watermark per partition, and for
 * every partition that passes records the object, the index entry, the new high watermark, its
 * producer state and the transactions its batches abort. Partitions that fail the check are left
 * untouched; the object's live bytes count only what was committed.
 */
public final class FlushCommitter {

  private static final Logger LOG = LoggerFactory.getLogger(FlushCommitter.class);

  /** PostgreSQL caps bind parameters at 65535; two per partition in the lock statement. */
  private static final int LOCK_CHUNK = 1000;

  private final MetadataStore store;

  public FlushCommitter(MetadataStore store) {
    this.store = store;
  }

  /** Runs the commit transaction on the calling (virtual) thread. */
  public Map<TopicPartitionId, CommitOutcome> commit(
      String objectKey, String kind, long objectSize, int node, List<PartitionCommit> commits) {
    return store.inTransaction(c -> commit(c, objectKey, kind, objectSize, node, commits));
  }

  private Map<TopicPartitionId, CommitOutcome> commit(
      Connection c,
      String objectKey,
      String kind,
      long objectSize,
      int node,
      List<PartitionCommit> commits)
      throws SQLException {
    TreeMap<TopicPartitionId, PartitionCommit> byPartition = new TreeMap<>();
    for (PartitionCommit pc : commits) {
      byPartition.put(pc.partition(), pc);
    }
    Map<TopicPartitionId, long[]> current = lockPartitions(c, List.copyOf(byPartition.keySet()));
    Map<TopicPartitionId, CommitOutcome> outcomes = new HashMap<>();
    long liveBytes = 0;
    for (PartitionCommit pc : byPartition.values()) {
      long[] row = current.get(pc.partition());
      CommitOutcome outcome;
      if (row == null) {
        outcome = CommitOutcome.UNKNOWN;
      } else if (row[0] != node || row[1] != pc.leaderEpoch()) {
        outcome = CommitOutcome.FENCED;
      } else if (row[2] != pc.entry().baseOffset()) {
        outcome = CommitOutcome.DIVERGED;
      } else {
        outcome = CommitOutcome.COMMITTED;
        liveBytes += pc.entry().size();
      }
      if (outcome != CommitOutcome.COMMITTED) {
        LOG.warn(
            "partition={} epoch={} object_key={} commit refused: {} (owner={}, epoch={}, hw={}, expected base={})",
            pc.partition(),
            pc.leaderEpoch(),
            objectKey,
            outcome,
            row == null ? "none" : row[0],
            row == null ? "none" : row[1],
            row == null ? "none" : row[2],
            pc.entry().baseOffset());
      }
      outcomes.put(pc.partition(), outcome);
    }
    if (liveBytes == 0) {
      return outcomes;
    }
    IndexRows.insertObject(c, objectKey, kind, objectSize, liveBytes, node);
    try (PreparedStatement index = c.prepareStatement(IndexRows.INSERT_INDEX);
        PreparedStatement hw =
            c.prepareStatement(
                "UPDATE partitions SET high_watermark = ? WHERE topic_id = ? AND partition = ?")) {
      List<PartitionCommit> committed = new ArrayList<>();
      for (PartitionCommit pc : byPartition.values()) {
        if (outcomes.get(pc.partition()) != CommitOutcome.COMMITTED) {
          continue;
        }
        committed.add(pc);
        IndexEntry e = pc.entry();
        IndexRows.addIndexRow(index, pc.partition(), e);
        hw.setLong(1, e.lastOffset() + 1);
        hw.setObject(2, pc.partition().topicId());
        hw.setInt(3, pc.partition().partition());
        hw.addBatch();
      }
      index.executeBatch();
      hw.executeBatch();
      // One batch each for all partitions: a statement per partition made a 16-partition flush
      // wait for some twenty round trips while holding the partitions' row locks.
      ProducerStateStore.upsert(c, committed);
      AbortedTransactions.insert(c, committed);
    }
    return outcomes;
  }

  /**
   * Locks the rows in primary-key order and returns owner, epoch and high watermark per partition.
   */
  private static Map<TopicPartitionId, long[]> lockPartitions(
      Connection c, List<TopicPartitionId> partitions) throws SQLException {
    Map<TopicPartitionId, long[]> out = new HashMap<>();
    for (int from = 0; from < partitions.size(); from += LOCK_CHUNK) {
      List<TopicPartitionId> chunk =
          partitions.subList(from, Math.min(partitions.size(), from + LOCK_CHUNK));
      StringBuilder sql =
          new StringBuilder(
              "SELECT p.topic_id, p.partition, p.owner_node, p.leader_epoch, p.high_watermark FROM partitions p "
                  + "JOIN topics t ON t.topic_id = p.topic_id AND t.state = 'LIVE' WHERE (p.topic_id, p.partition) IN (");
      for (int i = 0; i < chunk.size(); i++) {
        sql.append(i == 0 ? "(?, ?)" : ", (?, ?)");
      }
      sql.append(") ORDER BY p.topic_id, p.partition FOR UPDATE OF p");
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        int i = 1;
        for (TopicPartitionId tp : chunk) {
          ps.setObject(i++, tp.topicId());
          ps.setInt(i++, tp.partition());
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            int owner = rs.getInt(3);
            long ownerValue = rs.wasNull() ? -1 : owner;
            out.put(
                new TopicPartitionId(rs.getObject(1, UUID.class), rs.getInt(2)),
                new long[] {ownerValue, rs.getInt(4), rs.getLong(5)});
          }
        }
      }
    }
    return out;
  }
}
