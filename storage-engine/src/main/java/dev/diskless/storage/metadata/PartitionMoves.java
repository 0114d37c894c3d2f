package dev.diskless.storage.metadata;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Ownership moves that have been asked for and not yet carried out: by an operator
 * (AlterPartitionReassignments) or by the controller's balancing. The current owner executes a move
 * as a clean hand-over; a move is only a request, so a stale one is harmless (the owner checks its
 * epoch when it transfers).
 */
public final class PartitionMoves {

  private final MetadataStore store;

  public PartitionMoves(MetadataStore store) {
    this.store = store;
  }

  /** Asks for {@code tp} to move to {@code target}, replacing any earlier request. */
  public CompletableFuture<Void> request(TopicPartitionId tp, int target) {
    return request(tp, target, false);
  }

  /**
   * As {@link #request(TopicPartitionId, int)}; {@code pin} also records {@code target} as the
   * partition's preferred owner (an operator's placement, which balancing keeps).
   */
  public CompletableFuture<Void> request(TopicPartitionId tp, int target, boolean pin) {
    return store.async(
        c -> {
          if (pin) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE partitions SET preferred_owner = ? WHERE topic_id = ? AND partition = ?")) {
              ps.setInt(1, target);
              ps.setObject(2, tp.topicId());
              ps.setInt(3, tp.partition());
              if (ps.executeUpdate() != 1) {
                throw new StorageException(Kind.UNKNOWN_PARTITION, "no partition " + tp);
              }
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO partition_moves (topic_id, partition, target_node) VALUES (?, ?, ?) "
                      + "ON CONFLICT (topic_id, partition) DO UPDATE SET target_node = EXCLUDED.target_node, "
                      + "requested_at = now()")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setInt(3, target);
            ps.executeUpdate();
          } catch (java.sql.SQLException e) {
            if ("23503".equals(e.getSQLState())) {
              throw new StorageException(Kind.UNKNOWN_PARTITION, "no partition " + tp);
            }
            throw e;
          }
          return null;
        });
  }

  /** Withdraws the request for {@code tp} and its preferred owner; false if no move was pending. */
  public CompletableFuture<Boolean> cancel(TopicPartitionId tp) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE partitions SET preferred_owner = NULL WHERE topic_id = ? AND partition = ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM partition_moves WHERE topic_id = ? AND partition = ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            return ps.executeUpdate() == 1;
          }
        });
  }

  /** Removes the request for {@code tp} if it still names {@code target} (it was carried out). */
  public CompletableFuture<Void> done(TopicPartitionId tp, int target) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM partition_moves WHERE topic_id = ? AND partition = ? AND target_node = ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setInt(3, target);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** Partitions placed by an operator: partition → preferred owner. */
  public CompletableFuture<Map<TopicPartitionId, Integer>> preferredOwners() {
    return store.async(PartitionMoves::preferredOwners);
  }

  static Map<TopicPartitionId, Integer> preferredOwners(Connection c) throws SQLException {
    Map<TopicPartitionId, Integer> out = new HashMap<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT topic_id, partition, preferred_owner FROM partitions "
                    + "WHERE preferred_owner IS NOT NULL");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.put(new TopicPartitionId(rs.getObject(1, UUID.class), rs.getInt(2)), rs.getInt(3));
      }
    }
    return out;
  }

  /** Every pending request: partition → target node. */
  public CompletableFuture<Map<TopicPartitionId, Integer>> all() {
    return store.async(PartitionMoves::all);
  }

  static Map<TopicPartitionId, Integer> all(Connection c) throws SQLException {
    Map<TopicPartitionId, Integer> out = new HashMap<>();
    try (PreparedStatement ps =
            c.prepareStatement("SELECT topic_id, partition, target_node FROM partition_moves");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.put(new TopicPartitionId(rs.getObject(1, UUID.class), rs.getInt(2)), rs.getInt(3));
      }
    }
    return out;
  }
}
