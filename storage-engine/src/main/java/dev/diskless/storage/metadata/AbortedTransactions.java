package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The aborted-transaction index of each partition (Kafka's {@code .txnindex}) in PostgreSQL: rows
 * are written in the commit that makes their ABORT marker durable, loaded by the owner when it
 * opens the partition, and removed with the log below the log start offset.
 */
public final class AbortedTransactions {

  private final MetadataStore store;

  public AbortedTransactions(MetadataStore store) {
    this.store = store;
  }

  /** The partition's aborted transactions whose marker is at or after {@code fromOffset}. */
  public CompletableFuture<List<AbortedTransaction>> load(TopicPartitionId tp, long fromOffset) {
    return store.async(
        c -> {
          List<AbortedTransaction> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT producer_id, first_offset, last_offset FROM aborted_transactions"
                      + " WHERE topic_id = ? AND partition = ? AND last_offset >= ?"
                      + " ORDER BY last_offset")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setLong(3, fromOffset);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(new AbortedTransaction(rs.getLong(1), rs.getLong(2), rs.getLong(3)));
              }
            }
          }
          return out;
        });
  }

  /**
   * What a broker that does not own the partition needs for a read_committed read (a read replica):
   * the committed bounds, the last stable offset and the aborted transactions from {@code
   * fromOffset} below it. Read in that order in one transaction, each statement seeing the latest
   * commit: a transaction that ended after the bounds were read started below them only if its
   * marker, and so its aborted-index row, is committed by the time the index is read.
   */
  public CompletableFuture<StableView> stableView(TopicPartitionId tp, long fromOffset) {
    return store.async(
        c -> {
          PartitionMetadata meta = PartitionOwnership.describe(c, tp);
          long stable = meta.highWatermark();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT MIN(txn_first_offset) FROM producer_state"
                      + " WHERE topic_id = ? AND partition = ? AND txn_first_offset >= 0")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                long first = rs.getLong(1);
                if (!rs.wasNull()) {
                  stable = Math.min(stable, first);
                }
              }
            }
          }
          List<AbortedTransaction> aborted = new ArrayList<>(0);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT producer_id, first_offset, last_offset FROM aborted_transactions"
                      + " WHERE topic_id = ? AND partition = ? AND last_offset >= ?"
                      + " AND first_offset < ? ORDER BY last_offset")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setLong(3, fromOffset);
            ps.setLong(4, stable);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                aborted.add(new AbortedTransaction(rs.getLong(1), rs.getLong(2), rs.getLong(3)));
              }
            }
          }
          return new StableView(meta, stable, aborted);
        });
  }

  /**
   * A partition's committed bounds, its last stable offset and the aborted transactions below it
   * from some offset on.
   */
  public record StableView(
      PartitionMetadata meta, long lastStableOffset, List<AbortedTransaction> aborted) {
    public StableView {
      aborted = List.copyOf(aborted);
    }
  }

  static void removeBelow(Connection c, TopicPartitionId tp, long logStartOffset)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM aborted_transactions WHERE topic_id = ? AND partition = ?"
                + " AND last_offset < ?")) {
      ps.setObject(1, tp.topicId());
      ps.setInt(2, tp.partition());
      ps.setLong(3, logStartOffset);
      ps.executeUpdate();
    }
  }
}
