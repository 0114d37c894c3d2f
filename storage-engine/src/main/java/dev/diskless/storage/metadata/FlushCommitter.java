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
 * Commits one WAL object in one PostgreSQL transaction, by one call of the {@code
 * commit_wal_object} function: it locks the partition rows in a fixed order (no deadlocks between
 * brokers), checks owner, epoch and high watermark per partition, and for every partition that
 * passes records the object, the index entry, the new high watermark, its producer state and the
 * transactions its batches abort. Partitions that fail the check are left untouched; the object's
 * live bytes count only what was committed.
 */
public final class FlushCommitter {

  private static final Logger LOG = LoggerFactory.getLogger(FlushCommitter.class);

  /**
   * The whole commit in one call of {@code commit_wal_object} (migration V023, which states the
   * rules): its round trip and the commit's, where a statement each took six round trips while the
   * partitions' rows stayed locked.
   */
  private static final String COMMIT =
      "SELECT entry, outcome, found_owner, found_epoch, found_high_watermark FROM commit_wal_object("
          + "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  /** The element types of the function's array parameters, in order. */
  private static final String[] ARRAY_TYPES = {
    "uuid", "int4", "int4", "int8", "int8", "int8", "int4", "int8", "int4", "int4", "int8", "int2",
    "int8", "bytea", "int8", "int4", "int4", "int8", "int8", "int8"
  };

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
    List<PartitionCommit> entries = List.copyOf(byPartition.values());
    Map<TopicPartitionId, CommitOutcome> outcomes = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(COMMIT)) {
      bind(c, ps, objectKey, kind, objectSize, node, entries);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          PartitionCommit pc = entries.get(rs.getInt(1) - 1);
          CommitOutcome outcome = CommitOutcome.valueOf(rs.getString(2));
          outcomes.put(pc.partition(), outcome);
          if (outcome != CommitOutcome.COMMITTED) {
            int owner = rs.getInt(3);
            logRefused(
                pc, objectKey, outcome, rs.wasNull() ? "none" : owner, rs.getInt(4), rs.getLong(5));
          }
        }
      }
    }
    for (PartitionCommit pc : entries) {
      if (!outcomes.containsKey(pc.partition())) {
        outcomes.put(pc.partition(), CommitOutcome.UNKNOWN);
        logRefused(pc, objectKey, CommitOutcome.UNKNOWN, "none", "none", "none");
      }
    }
    return outcomes;
  }

  private static void logRefused(
      PartitionCommit pc,
      String objectKey,
      CommitOutcome outcome,
      Object owner,
      Object epoch,
      Object highWatermark) {
    LOG.warn(
        "partition={} epoch={} object_key={} commit refused: {} (owner={}, epoch={}, hw={}, expected base={})",
        pc.partition(),
        pc.leaderEpoch(),
        objectKey,
        outcome,
        owner,
        epoch,
        highWatermark,
        pc.entry().baseOffset());
  }

  /** Binds the object and its entries, producers and aborted transactions as parallel arrays. */
  private static void bind(
      Connection c,
      PreparedStatement ps,
      String objectKey,
      String kind,
      long objectSize,
      int node,
      List<PartitionCommit> entries)
      throws SQLException {
    int n = entries.size();
    UUID[] topicIds = new UUID[n];
    Integer[] partitions = new Integer[n];
    Integer[] epochs = new Integer[n];
    Long[] baseOffsets = new Long[n];
    Long[] lastOffsets = new Long[n];
    Long[] maxTimestamps = new Long[n];
    Integer[] batchCounts = new Integer[n];
    Long[] positions = new Long[n];
    Integer[] sizes = new Integer[n];
    List<Integer> producerEntries = new ArrayList<>();
    List<Long> producerIds = new ArrayList<>();
    List<Short> producerEpochs = new ArrayList<>();
    List<Long> producerTimestamps = new ArrayList<>();
    List<byte[]> producerRecent = new ArrayList<>();
    List<Long> txnFirstOffsets = new ArrayList<>();
    List<Integer> coordinatorEpochs = new ArrayList<>();
    List<Integer> abortedEntries = new ArrayList<>();
    List<Long> abortedLastOffsets = new ArrayList<>();
    List<Long> abortedProducerIds = new ArrayList<>();
    List<Long> abortedFirstOffsets = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      PartitionCommit pc = entries.get(i);
      IndexEntry e = pc.entry();
      topicIds[i] = pc.partition().topicId();
      partitions[i] = pc.partition().partition();
      epochs[i] = pc.leaderEpoch();
      baseOffsets[i] = e.baseOffset();
      lastOffsets[i] = e.lastOffset();
      maxTimestamps[i] = e.maxTimestamp();
      batchCounts[i] = e.batchCount();
      positions[i] = e.position();
      sizes[i] = e.size();
      for (ProducerSnapshot s : pc.producers()) {
        producerEntries.add(i + 1);
        producerIds.add(s.producerId());
        producerEpochs.add(s.producerEpoch());
        producerTimestamps.add(s.lastTimestamp());
        producerRecent.add(s.encodeRecent());
        txnFirstOffsets.add(s.txnFirstOffset());
        coordinatorEpochs.add(s.coordinatorEpoch());
      }
      for (AbortedTransaction a : pc.aborted()) {
        abortedEntries.add(i + 1);
        abortedLastOffsets.add(a.lastOffset());
        abortedProducerIds.add(a.producerId());
        abortedFirstOffsets.add(a.firstOffset());
      }
    }
    ps.setString(1, objectKey);
    ps.setString(2, kind);
    ps.setLong(3, objectSize);
    ps.setInt(4, node);
    Object[][] arrays = {
      topicIds,
      partitions,
      epochs,
      baseOffsets,
      lastOffsets,
      maxTimestamps,
      batchCounts,
      positions,
      sizes,
      producerEntries.toArray(Integer[]::new),
      producerIds.toArray(Long[]::new),
      producerEpochs.toArray(Short[]::new),
      producerTimestamps.toArray(Long[]::new),
      producerRecent.toArray(byte[][]::new),
      txnFirstOffsets.toArray(Long[]::new),
      coordinatorEpochs.toArray(Integer[]::new),
      abortedEntries.toArray(Integer[]::new),
      abortedLastOffsets.toArray(Long[]::new),
      abortedProducerIds.toArray(Long[]::new),
      abortedFirstOffsets.toArray(Long[]::new)
    };
    for (int i = 0; i < arrays.length; i++) {
      ps.setArray(5 + i, c.createArrayOf(ARRAY_TYPES[i], arrays[i]));
    }
  }
}
