package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Loads and writes idempotent-producer state; writes happen only inside a WAL commit transaction.
 */
public final class ProducerStateStore {

  private final MetadataStore store;

  public ProducerStateStore(MetadataStore store) {
    this.store = store;
  }

  public CompletableFuture<Map<Long, ProducerSnapshot>> load(TopicPartitionId tp) {
    return store.async(
        c -> {
          Map<Long, ProducerSnapshot> out = new HashMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT producer_id, producer_epoch, last_timestamp, recent_batches, txn_first_offset,"
                      + " coordinator_epoch FROM producer_state "
                      + "WHERE topic_id = ? AND partition = ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long pid = rs.getLong(1);
                out.put(
                    pid,
                    new ProducerSnapshot(
                        pid,
                        rs.getShort(2),
                        rs.getLong(3),
                        ProducerSnapshot.decodeRecent(rs.getBytes(4)),
                        rs.getLong(5),
                        rs.getInt(6)));
              }
            }
          }
          return out;
        });
  }

  /**
   * Writes the producers of every committed partition of one flush: one batch, so a flush's commit
   * costs one round trip for them however many partitions it holds.
   */
  static void upsert(Connection c, List<PartitionCommit> commits) throws SQLException {
    if (commits.stream().allMatch(pc -> pc.producers().isEmpty())) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO producer_state (topic_id, partition, producer_id, producer_epoch, last_timestamp,"
                + " recent_batches, txn_first_offset, coordinator_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (topic_id, partition, producer_id) DO UPDATE SET "
                + "producer_epoch = EXCLUDED.producer_epoch, last_timestamp = EXCLUDED.last_timestamp, "
                + "recent_batches = EXCLUDED.recent_batches, txn_first_offset = EXCLUDED.txn_first_offset,"
                + " coordinator_epoch = EXCLUDED.coordinator_epoch")) {
      for (PartitionCommit pc : commits) {
        for (ProducerSnapshot s : pc.producers()) {
          ps.setObject(1, pc.partition().topicId());
          ps.setInt(2, pc.partition().partition());
          ps.setLong(3, s.producerId());
          ps.setShort(4, s.producerEpoch());
          ps.setLong(5, s.lastTimestamp());
          ps.setBytes(6, s.encodeRecent());
          ps.setLong(7, s.txnFirstOffset());
          ps.setInt(8, s.coordinatorEpoch());
          ps.addBatch();
        }
      }
      ps.executeBatch();
    }
  }
}
