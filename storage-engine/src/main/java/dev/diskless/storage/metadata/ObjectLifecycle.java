package dev.diskless.storage.metadata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The life of objects after they stop being referenced: LIVE objects with no live bytes become
 * DELETING with a deadline; after the deadline they are removed from the bucket and then from this
 * table. Objects in the bucket with no row at all (a PUT whose commit failed) are orphans, removed
 * once older than the grace period.
 */
public final class ObjectLifecycle {

  private final MetadataStore store;

  public ObjectLifecycle(MetadataStore store) {
    this.store = store;
  }

  /**
   * Marks objects with no live bytes for deletion. A minute is ample: readers hold an index entry
   * only for the time of one read request.
   */
  private static final String MARK_UNREFERENCED =
      "UPDATE objects SET state = 'DELETING', deletable_after = now() + interval '1 minute' "
          + "WHERE state = 'LIVE' AND live_bytes <= 0";

  /** Marks every object with no live bytes for deletion ({@link #MARK_UNREFERENCED}). */
  static void markUnreferenced(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(MARK_UNREFERENCED)) {
      ps.executeUpdate();
    }
  }

  /** As {@link #markUnreferenced(Connection)}, among {@code keys} only (by primary key). */
  static void markUnreferenced(Connection c, String[] keys) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(MARK_UNREFERENCED + " AND object_key = ANY (?)")) {
      ps.setArray(1, c.createArrayOf("text", keys));
      ps.executeUpdate();
    }
  }

  /** Objects whose deletion deadline has passed, at most {@code limit}. */
  public CompletableFuture<List<String>> dueForDeletion(int limit) {
    return store.async(
        c -> {
          List<String> keys = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT object_key FROM objects WHERE state = 'DELETING' AND deletable_after < now() "
                      + "ORDER BY deletable_after LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                keys.add(rs.getString(1));
              }
            }
          }
          return keys;
        });
  }

  /** Forgets objects already removed from the bucket. */
  public CompletableFuture<Void> forget(List<String> keys) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM objects WHERE object_key = ? AND state = 'DELETING'")) {
            for (String k : keys) {
              ps.setString(1, k);
              ps.addBatch();
            }
            ps.executeBatch();
          }
          return null;
        });
  }

  /** Ids of topics marked deleted whose data is still to be removed. */
  public CompletableFuture<java.util.List<java.util.UUID>> deletedTopics() {
    return store.async(
        c -> {
          java.util.List<java.util.UUID> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT topic_id FROM topics WHERE state = 'DELETING'");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(rs.getObject(1, java.util.UUID.class));
            }
          }
          return out;
        });
  }

  /**
   * Removes a deleted topic's index rows, producer state, partitions and the topic itself in one
   * transaction; its objects lose their live bytes and are deleted from the bucket after the grace
   * period.
   */
  public CompletableFuture<Void> purgeTopic(java.util.UUID topicId) {
    return store.async(
        c -> {
          // Serialise with any commit still holding these rows, so no index row lands after the
          // purge.
          try (PreparedStatement lock =
              c.prepareStatement(
                  "SELECT partition FROM partitions WHERE topic_id = ? ORDER BY partition FOR UPDATE")) {
            lock.setObject(1, topicId);
            lock.executeQuery().close();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "WITH gone AS (DELETE FROM batch_index WHERE topic_id = ? RETURNING object_key, byte_size), "
                      + "per_object AS (SELECT object_key, SUM(byte_size) AS bytes FROM gone GROUP BY object_key) "
                      + "UPDATE objects o SET live_bytes = o.live_bytes - per_object.bytes FROM per_object "
                      + "WHERE o.object_key = per_object.object_key")) {
            ps.setObject(1, topicId);
            ps.executeUpdate();
          }
          for (String sql :
              new String[] {
                "DELETE FROM producer_state WHERE topic_id = ?",
                "DELETE FROM aborted_transactions WHERE topic_id = ?",
                "DELETE FROM topics WHERE topic_id = ? AND state = 'DELETING'"
              }) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              ps.setObject(1, topicId);
              ps.executeUpdate();
            }
          }
          markUnreferenced(c);
          return null;
        });
  }

  /** Which of {@code keys} have a row (any state): the rest are orphans. */
  public CompletableFuture<Set<String>> known(List<String> keys) {
    return store.async(
        c -> {
          Set<String> out = new HashSet<>();
          try (PreparedStatement ps =
              c.prepareStatement("SELECT object_key FROM objects WHERE object_key = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", keys.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
          }
          return out;
        });
  }
}
