package dev.diskless.storage.metadata;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The transaction coordinators' state in PostgreSQL, one row per transactional id. A write is
 * fenced by the coordinator's partition: it happens only if {@code node} still owns that partition
 * at {@code leaderEpoch}, checked under a share lock on the partition row in the same transaction,
 * so it cannot interleave with the partition's move to another coordinator.
 */
public final class TransactionStore {

  private static final String COLUMNS =
      "transactional_id, coordinator_partition, producer_id, prev_producer_id, next_producer_id,"
          + " producer_epoch, last_producer_epoch, timeout_ms, state, txn_start_ms, last_update_ms,"
          + " client_txn_version";

  private final MetadataStore store;

  public TransactionStore(MetadataStore store) {
    this.store = store;
  }

  public CompletableFuture<Optional<TransactionRecord>> get(String transactionalId) {
    return store.async(
        c -> {
          List<TransactionRecord> found =
              select(c, "WHERE transactional_id = ?", ps -> ps.setString(1, transactionalId));
          return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
        });
  }

  /** The rows of the transactional ids that hash onto one coordinator partition. */
  public CompletableFuture<List<TransactionRecord>> byCoordinatorPartition(int partition) {
    return store.async(
        c -> select(c, "WHERE coordinator_partition = ?", ps -> ps.setInt(1, partition)));
  }

  /** Rows of transactional ids that hash onto any of {@code partitions}, in one query. */
  public CompletableFuture<List<TransactionRecord>> byCoordinatorPartitions(
      java.util.Collection<Integer> partitions) {
    Integer[] ids = partitions.toArray(Integer[]::new);
    return store.async(
        c ->
            select(
                c,
                "WHERE coordinator_partition = ANY (?)",
                ps -> ps.setArray(1, c.createArrayOf("integer", ids))));
  }

  /** Every row (ListTransactions). */
  public CompletableFuture<List<TransactionRecord>> all() {
    return store.async(c -> select(c, "", ps -> {}));
  }

  /**
   * Writes {@code record} (creating or replacing the row and its partitions) if {@code node} owns
   * {@code coordinator} at {@code leaderEpoch}; fails with {@link Kind#NOT_OWNER} otherwise.
   */
  public CompletableFuture<Void> put(
      TransactionRecord record, TopicPartitionId coordinator, int node, int leaderEpoch) {
    return store.async(
        c -> {
          checkCoordinator(c, coordinator, node, leaderEpoch);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO transactions ("
                      + COLUMNS
                      + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT (transactional_id) DO UPDATE SET"
                      + " coordinator_partition = EXCLUDED.coordinator_partition,"
                      + " producer_id = EXCLUDED.producer_id,"
                      + " prev_producer_id = EXCLUDED.prev_producer_id,"
                      + " next_producer_id = EXCLUDED.next_producer_id,"
                      + " producer_epoch = EXCLUDED.producer_epoch,"
                      + " last_producer_epoch = EXCLUDED.last_producer_epoch,"
                      + " timeout_ms = EXCLUDED.timeout_ms, state = EXCLUDED.state,"
                      + " txn_start_ms = EXCLUDED.txn_start_ms,"
                      + " last_update_ms = EXCLUDED.last_update_ms,"
                      + " client_txn_version = EXCLUDED.client_txn_version")) {
            ps.setString(1, record.transactionalId());
            ps.setInt(2, record.coordinatorPartition());
            ps.setLong(3, record.producerId());
            ps.setLong(4, record.prevProducerId());
            ps.setLong(5, record.nextProducerId());
            ps.setShort(6, record.producerEpoch());
            ps.setShort(7, record.lastProducerEpoch());
            ps.setInt(8, record.timeoutMs());
            ps.setString(9, record.state());
            ps.setLong(10, record.txnStartMs());
            ps.setLong(11, record.lastUpdateMs());
            ps.setShort(12, record.clientTransactionVersion());
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM transaction_partitions WHERE transactional_id = ?")) {
            ps.setString(1, record.transactionalId());
            ps.executeUpdate();
          }
          if (!record.partitions().isEmpty()) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO transaction_partitions (transactional_id, topic, partition)"
                        + " VALUES (?, ?, ?)")) {
              for (TransactionRecord.Partition p : record.partitions()) {
                ps.setString(1, record.transactionalId());
                ps.setString(2, p.topic());
                ps.setInt(3, p.partition());
                ps.addBatch();
              }
              ps.executeBatch();
            }
          }
          return null;
        });
  }

  /**
   * Removes the row of an expired transactional id if it has not changed since {@code
   * lastUpdateMs}; fenced as {@link #put}. Returns whether it was removed.
   */
  public CompletableFuture<Boolean> expire(
      String transactionalId,
      long lastUpdateMs,
      TopicPartitionId coordinator,
      int node,
      int leaderEpoch) {
    return store.async(
        c -> {
          checkCoordinator(c, coordinator, node, leaderEpoch);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM transactions WHERE transactional_id = ? AND last_update_ms = ?")) {
            ps.setString(1, transactionalId);
            ps.setLong(2, lastUpdateMs);
            return ps.executeUpdate() == 1;
          }
        });
  }

  private static void checkCoordinator(
      Connection c, TopicPartitionId coordinator, int node, int leaderEpoch) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT owner_node, leader_epoch FROM partitions WHERE topic_id = ? AND partition = ?"
                + " FOR SHARE")) {
      ps.setObject(1, coordinator.topicId());
      ps.setInt(2, coordinator.partition());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new StorageException(
              Kind.NOT_OWNER, "coordinator partition " + coordinator + " is gone");
        }
        int owner = rs.getInt(1);
        boolean noOwner = rs.wasNull();
        int epoch = rs.getInt(2);
        if (noOwner || owner != node || epoch != leaderEpoch) {
          throw new StorageException(
              Kind.NOT_OWNER,
              "node "
                  + node
                  + " is no longer the coordinator of "
                  + coordinator
                  + " at epoch "
                  + leaderEpoch
                  + " (owner "
                  + (noOwner ? "none" : owner)
                  + ", epoch "
                  + epoch
                  + ")");
        }
      }
    }
  }

  private interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }

  private static List<TransactionRecord> select(Connection c, String where, Binder binder)
      throws SQLException {
    Map<String, List<TransactionRecord.Partition>> partitions = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT tp.transactional_id, tp.topic, tp.partition FROM transaction_partitions tp"
                + " JOIN transactions t ON t.transactional_id = tp.transactional_id "
                + where
                    .replace("transactional_id", "t.transactional_id")
                    .replace("coordinator_partition", "t.coordinator_partition")
                + " ORDER BY tp.topic, tp.partition")) {
      binder.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          partitions
              .computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
              .add(new TransactionRecord.Partition(rs.getString(2), rs.getInt(3)));
        }
      }
    }
    List<TransactionRecord> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement("SELECT " + COLUMNS + " FROM transactions " + where)) {
      binder.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String id = rs.getString(1);
          out.add(
              new TransactionRecord(
                  id,
                  rs.getInt(2),
                  rs.getLong(3),
                  rs.getLong(4),
                  rs.getLong(5),
                  rs.getShort(6),
                  rs.getShort(7),
                  rs.getInt(8),
                  rs.getString(9),
                  partitions.getOrDefault(id, List.of()),
                  rs.getLong(10),
                  rs.getLong(11),
                  rs.getShort(12)));
        }
      }
    }
    return out;
  }
}
