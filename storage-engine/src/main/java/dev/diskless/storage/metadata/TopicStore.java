package dev.diskless.storage.metadata;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * Topics, their configs and their partition rows. Creating a topic creates its partitions unowned
 * at epoch 0; the controller assigns owners. Deleting a topic only marks it: its name is free at
 * once, and its data is removed by the cleaner.
 */
public final class TopicStore {

  private static final String UNIQUE_VIOLATION = "23505";

  private final MetadataStore store;

  public TopicStore(MetadataStore store) {
    this.store = store;
  }

  /**
   * Creates a topic without partition limits: for the topics brokers create themselves. Fails with
   * {@link Kind#INVALID_REQUEST} if a live topic has that name.
   */
  public CompletableFuture<TopicInfo> create(
      String name, int partitions, Map<String, String> configs) {
    return create(name, partitions, configs, PartitionLimits.NONE);
  }

  /**
   * The live topic called {@code name}, created (without partition limits) if there is none: for
   * the internal topics every broker makes sure of at start. A broker that loses the race to create
   * it gets the winner's topic.
   */
  public CompletableFuture<TopicInfo> createIfAbsent(
      String name, int partitions, Map<String, String> configs) {
    return byName(name)
        .thenCompose(
            existing ->
                existing.isPresent()
                    ? CompletableFuture.completedFuture(existing.get())
                    : create(name, partitions, configs)
                        .exceptionallyCompose(
                            t ->
                                byName(name)
                                    .thenApply(
                                        again ->
                                            again.orElseThrow(
                                                () ->
                                                    new IllegalStateException(
                                                        "cannot create " + name,
                                                        StorageException.unwrap(t))))));
  }

  /**
   * Creates a topic; fails with {@link Kind#INVALID_REQUEST} if a live topic has that name and with
   * {@link Kind#LIMIT_EXCEEDED} if it would break {@code limits}, checked against the committed
   * partitions in the same transaction (the rows of a refused topic are never built).
   */
  public CompletableFuture<TopicInfo> create(
      String name, int partitions, Map<String, String> configs, PartitionLimits limits) {
    if (partitions < 1) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Kind.INVALID_REQUEST, "a topic needs at least one partition, got " + partitions));
    }
    Optional<String> tooMany = limits.checkTopic(name, partitions);
    if (tooMany.isPresent()) {
      return CompletableFuture.failedFuture(
          new StorageException(Kind.LIMIT_EXCEEDED, tooMany.get()));
    }
    UUID id = UUID.randomUUID();
    return store.async(
        c -> {
          if (limits.perCluster() != Integer.MAX_VALUE) {
            PartitionLimits.enforce(limits.checkCluster(livePartitions(c), partitions));
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO topics (topic_id, name, partition_count) VALUES (?, ?, ?)")) {
            ps.setObject(1, id);
            ps.setString(2, name);
            ps.setInt(3, partitions);
            ps.executeUpdate();
          } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
              throw new StorageException(Kind.INVALID_REQUEST, "topic " + name + " already exists");
            }
            throw e;
          }
          insertPartitions(c, id, 0, partitions);
          writeConfigs(c, id, configs);
          return new TopicInfo(id, name, partitions, configs);
        });
  }

  /**
   * Partitions of all live topics. Concurrent creations can each pass this check, so the cluster
   * bound can be overshot by what is being created at that moment; per-topic bounds keep that
   * small.
   */
  private static long livePartitions(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT COALESCE(SUM(partition_count), 0) FROM topics WHERE state = 'LIVE'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void insertPartitions(Connection c, UUID id, int from, int to)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO partitions (topic_id, partition) VALUES (?, ?)")) {
      for (int p = from; p < to; p++) {
        ps.setObject(1, id);
        ps.setInt(2, p);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private static void writeConfigs(Connection c, UUID id, Map<String, String> configs)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO topic_configs (topic_id, name, value) VALUES (?, ?, ?) "
                + "ON CONFLICT (topic_id, name) DO UPDATE SET value = EXCLUDED.value")) {
      for (var e : configs.entrySet()) {
        ps.setObject(1, id);
        ps.setString(2, e.getKey());
        ps.setString(3, e.getValue());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * Replaces a live topic's configs with what {@code change} makes of its current ones, in one
   * transaction that locks the topic's row first, so concurrent changes apply one after the other
   * instead of over each other (an APPEND to a list config never loses a concurrent one). {@code
   * change} may throw to refuse the result; nothing changes then and the future fails with that
   * exception. Fails with {@link Kind#INVALID_REQUEST} if no live topic has the id. Returns the new
   * configs.
   */
  public CompletableFuture<Map<String, String>> updateConfigs(
      UUID topicId, UnaryOperator<Map<String, String>> change) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT topic_id FROM topics WHERE topic_id = ? AND state = 'LIVE' FOR UPDATE")) {
            ps.setObject(1, topicId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new StorageException(
                    Kind.INVALID_REQUEST, "topic " + topicId + " does not exist");
              }
            }
          }
          Map<String, String> current = new HashMap<>();
          try (PreparedStatement ps =
              c.prepareStatement("SELECT name, value FROM topic_configs WHERE topic_id = ?")) {
            ps.setObject(1, topicId);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                current.put(rs.getString(1), rs.getString(2));
              }
            }
          }
          Map<String, String> next = Map.copyOf(change.apply(Map.copyOf(current)));
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM topic_configs WHERE topic_id = ? AND name = ?")) {
            for (String key : current.keySet()) {
              if (!next.containsKey(key)) {
                ps.setObject(1, topicId);
                ps.setString(2, key);
                ps.addBatch();
              }
            }
            ps.executeBatch();
          }
          writeConfigs(c, topicId, next);
          return next;
        });
  }

  /** Grows a topic to {@code newCount} partitions, without partition limits. */
  public CompletableFuture<Void> addPartitions(UUID topicId, int newCount) {
    return addPartitions(topicId, newCount, PartitionLimits.NONE);
  }

  /**
   * Grows a topic to {@code newCount} partitions; fails with {@link Kind#LIMIT_EXCEEDED} if that
   * would break {@code limits}.
   */
  public CompletableFuture<Void> addPartitions(UUID topicId, int newCount, PartitionLimits limits) {
    Optional<String> tooMany = limits.checkTopic(topicId.toString(), newCount);
    if (tooMany.isPresent()) {
      return CompletableFuture.failedFuture(
          new StorageException(Kind.LIMIT_EXCEEDED, tooMany.get()));
    }
    return store.async(
        c -> {
          int current;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT partition_count FROM topics WHERE topic_id = ? AND state = 'LIVE' FOR UPDATE")) {
            ps.setObject(1, topicId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new StorageException(
                    Kind.UNKNOWN_PARTITION, "topic " + topicId + " does not exist");
              }
              current = rs.getInt(1);
            }
          }
          if (newCount <= current) {
            throw new StorageException(
                Kind.INVALID_REQUEST,
                "topic "
                    + topicId
                    + " has "
                    + current
                    + " partitions; the new count must be larger, got "
                    + newCount);
          }
          if (limits.perCluster() != Integer.MAX_VALUE) {
            PartitionLimits.enforce(limits.checkCluster(livePartitions(c), newCount - current));
          }
          insertPartitions(c, topicId, current, newCount);
          try (PreparedStatement ps =
              c.prepareStatement("UPDATE topics SET partition_count = ? WHERE topic_id = ?")) {
            ps.setInt(1, newCount);
            ps.setObject(2, topicId);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /**
   * Marks a live topic deleted; its partitions stop being served and its data is removed in the
   * background.
   */
  public CompletableFuture<Boolean> markDeleted(UUID topicId) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE topics SET state = 'DELETING' WHERE topic_id = ? AND state = 'LIVE'")) {
            ps.setObject(1, topicId);
            boolean deleted = ps.executeUpdate() == 1;
            if (deleted) {
              try (PreparedStatement owners =
                  c.prepareStatement(
                      "UPDATE partitions SET owner_node = NULL, leader_epoch = leader_epoch + 1 WHERE topic_id = ?")) {
                owners.setObject(1, topicId);
                owners.executeUpdate();
              }
            }
            return deleted;
          }
        });
  }

  public CompletableFuture<Optional<TopicInfo>> byName(String name) {
    return store.async(c -> query(c, "t.name = ?", name).stream().findFirst());
  }

  public CompletableFuture<Optional<TopicInfo>> byId(UUID id) {
    return store.async(c -> query(c, "t.topic_id = ?", id).stream().findFirst());
  }

  public CompletableFuture<List<TopicInfo>> list() {
    return store.async(TopicStore::list);
  }

  static List<TopicInfo> list(Connection c) throws SQLException {
    return query(c, "TRUE", null);
  }

  private static List<TopicInfo> query(Connection c, String where, Object arg) throws SQLException {
    String sql =
        "SELECT t.topic_id, t.name, t.partition_count, tc.name, tc.value FROM topics t "
            + "LEFT JOIN topic_configs tc ON tc.topic_id = t.topic_id "
            + "WHERE t.state = 'LIVE' AND "
            + where
            + " ORDER BY t.name";
    Map<UUID, TopicInfo> topics = new LinkedHashMap<>();
    Map<UUID, Map<String, String>> configs = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (arg != null) {
        ps.setObject(1, arg);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject(1, UUID.class);
          topics.putIfAbsent(id, new TopicInfo(id, rs.getString(2), rs.getInt(3), Map.of()));
          Map<String, String> cfg = configs.computeIfAbsent(id, k -> new HashMap<>());
          if (rs.getString(4) != null) {
            cfg.put(rs.getString(4), rs.getString(5));
          }
        }
      }
    }
    List<TopicInfo> out = new ArrayList<>();
    for (TopicInfo t : topics.values()) {
      out.add(new TopicInfo(t.topicId(), t.name(), t.partitionCount(), configs.get(t.topicId())));
    }
    return out;
  }
}
