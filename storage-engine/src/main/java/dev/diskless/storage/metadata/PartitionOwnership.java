package dev.diskless.storage.metadata;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Who owns each partition, and the leader epoch that fences everyone else. Each change of owner
 * bumps the epoch in the same statement, so a WAL commit carrying the old epoch fails even if it
 * was already in flight. Moving a partition changes only these rows: no record is copied.
 */
public final class PartitionOwnership {

  private final MetadataStore store;

  public PartitionOwnership(MetadataStore store) {
    this.store = store;
  }

  /**
   * Makes {@code node} the owner if the partition has no owner or its owner's lease has expired,
   * and returns the new epoch. Fails with {@link Kind#NOT_OWNER} if a live broker owns it.
   */
  public CompletableFuture<PartitionMetadata> acquire(TopicPartitionId tp, int node) {
    return acquire(tp, node, OptionalInt.empty());
  }

  /**
   * As {@link #acquire(TopicPartitionId, int)}, but only if the epoch is still {@code seenEpoch},
   * the one the caller decided on. Two assigners that both see a partition without an owner (a
   * topic's creator and the controller) then make one owner at one epoch between them; without the
   * condition the second, picking the same node, bumps the epoch again and the owner reopens the
   * partition for nothing. The loser gets {@link Kind#NOT_OWNER}.
   */
  public CompletableFuture<PartitionMetadata> acquire(
      TopicPartitionId tp, int node, int seenEpoch) {
    return acquire(tp, node, OptionalInt.of(seenEpoch));
  }

  private CompletableFuture<PartitionMetadata> acquire(
      TopicPartitionId tp, int node, OptionalInt seenEpoch) {
    return store.async(
        c -> {
          String sql =
              "UPDATE partitions p SET previous_owner = p.owner_node, "
                  + "previous_owner_epoch = (SELECT b.broker_epoch FROM brokers b WHERE b.node_id = p.owner_node), "
                  + "previous_owner_released = (p.owner_node IS NULL OR p.owner_node = ?), "
                  + "owner_node = ?, leader_epoch = leader_epoch + 1 "
                  + "WHERE p.topic_id = ? AND p.partition = ? AND (p.owner_node IS NULL OR p.owner_node = ? OR NOT EXISTS "
                  + "(SELECT 1 FROM brokers b WHERE b.node_id = p.owner_node AND b.lease_expires_at >= now())) "
                  + (seenEpoch.isPresent() ? "AND p.leader_epoch = ? " : "")
                  + "RETURNING owner_node, leader_epoch, log_start_offset, high_watermark, previous_owner, previous_owner_epoch, previous_owner_released";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, node);
            ps.setInt(2, node);
            ps.setObject(3, tp.topicId());
            ps.setInt(4, tp.partition());
            ps.setInt(5, node);
            if (seenEpoch.isPresent()) {
              ps.setInt(6, seenEpoch.getAsInt());
            }
            PartitionMetadata result = single(ps, tp);
            if (result == null) {
              PartitionMetadata current = describe(c, tp);
              throw new StorageException(
                  Kind.NOT_OWNER,
                  "partition "
                      + tp
                      + " is owned by "
                      + (current.owner().isPresent()
                          ? "live node " + current.owner().getAsInt()
                          : "no node")
                      + " at epoch "
                      + current.leaderEpoch()
                      + seenEpoch.stream()
                          .mapToObj(e -> " (expected epoch " + e + ")")
                          .findFirst()
                          .orElse(""));
            }
            return result;
          }
        });
  }

  /**
   * Moves the partition from {@code expectedOwner} at {@code expectedEpoch} to {@code newOwner},
   * bumping the epoch. Fails with {@link Kind#FENCED_EPOCH} if the partition changed hands
   * meanwhile.
   */
  public CompletableFuture<PartitionMetadata> transfer(
      TopicPartitionId tp, OptionalInt expectedOwner, int expectedEpoch, OptionalInt newOwner) {
    return transfer(tp, expectedOwner, expectedEpoch, newOwner, false);
  }

  /**
   * As {@link #transfer(TopicPartitionId, OptionalInt, int, OptionalInt)}; {@code released} says
   * the expected owner itself stopped appending and committed everything it acknowledged before
   * calling this (a clean hand-over).
   */
  public CompletableFuture<PartitionMetadata> transfer(
      TopicPartitionId tp,
      OptionalInt expectedOwner,
      int expectedEpoch,
      OptionalInt newOwner,
      boolean released) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE partitions SET previous_owner = owner_node, previous_owner_released = ?, "
                      + "previous_owner_epoch = (SELECT b.broker_epoch FROM brokers b WHERE b.node_id = partitions.owner_node), "
                      + "owner_node = ?, leader_epoch = leader_epoch + 1 "
                      + "WHERE topic_id = ? AND partition = ? AND leader_epoch = ? "
                      + "AND owner_node IS NOT DISTINCT FROM ? "
                      + "RETURNING owner_node, leader_epoch, log_start_offset, high_watermark, previous_owner, previous_owner_epoch, previous_owner_released")) {
            ps.setBoolean(1, released);
            ps.setObject(
                2, newOwner.isPresent() ? newOwner.getAsInt() : null, java.sql.Types.INTEGER);
            ps.setObject(3, tp.topicId());
            ps.setInt(4, tp.partition());
            ps.setInt(5, expectedEpoch);
            ps.setObject(
                6,
                expectedOwner.isPresent() ? expectedOwner.getAsInt() : null,
                java.sql.Types.INTEGER);
            return changedOrFenced(c, ps, tp, expectedOwner, expectedEpoch);
          }
        });
  }

  /**
   * Moves the partition from {@code owner} at {@code epoch}, an epoch at which that owner never
   * served it (no append was taken), to {@code newOwner}, bumping the epoch. The previous-owner
   * columns keep naming the owner before {@code owner}: whatever that one may have left to recover
   * is still the new owner's to recover. Fails with {@link Kind#FENCED_EPOCH} if the partition
   * changed hands meanwhile.
   */
  public CompletableFuture<PartitionMetadata> passOn(
      TopicPartitionId tp, int owner, int epoch, int newOwner) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE partitions SET owner_node = ?, leader_epoch = leader_epoch + 1 "
                      + "WHERE topic_id = ? AND partition = ? AND leader_epoch = ? AND owner_node = ? "
                      + "RETURNING owner_node, leader_epoch, log_start_offset, high_watermark, previous_owner, previous_owner_epoch, previous_owner_released")) {
            ps.setInt(1, newOwner);
            ps.setObject(2, tp.topicId());
            ps.setInt(3, tp.partition());
            ps.setInt(4, epoch);
            ps.setInt(5, owner);
            return changedOrFenced(c, ps, tp, OptionalInt.of(owner), epoch);
          }
        });
  }

  private static PartitionMetadata changedOrFenced(
      Connection c,
      PreparedStatement update,
      TopicPartitionId tp,
      OptionalInt expectedOwner,
      int expectedEpoch)
      throws SQLException {
    PartitionMetadata result = single(update, tp);
    if (result == null) {
      PartitionMetadata current = describe(c, tp);
      throw new StorageException(
          Kind.FENCED_EPOCH,
          "partition "
              + tp
              + " expected owner "
              + expectedOwner
              + " epoch "
              + expectedEpoch
              + " but is "
              + current.owner()
              + " epoch "
              + current.leaderEpoch());
    }
    return result;
  }

  /** Bumps the epoch without changing the owner: every append in flight at the old epoch fails. */
  public CompletableFuture<PartitionMetadata> fence(TopicPartitionId tp) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE partitions SET previous_owner = owner_node, previous_owner_released = FALSE, "
                      + "previous_owner_epoch = (SELECT b.broker_epoch FROM brokers b WHERE b.node_id = partitions.owner_node), "
                      + "leader_epoch = leader_epoch + 1 WHERE topic_id = ? AND partition = ? "
                      + "RETURNING owner_node, leader_epoch, log_start_offset, high_watermark, previous_owner, previous_owner_epoch, previous_owner_released")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            PartitionMetadata result = single(ps, tp);
            if (result == null) {
              throw unknown(tp);
            }
            return result;
          }
        });
  }

  public CompletableFuture<PartitionMetadata> describe(TopicPartitionId tp) {
    return store.async(c -> describe(c, tp));
  }

  /** Every partition of live topics, for the controller and the broker's metadata cache. */
  public CompletableFuture<List<PartitionMetadata>> all() {
    return store.async(PartitionOwnership::all);
  }

  static List<PartitionMetadata> all(Connection c) throws SQLException {
    List<PartitionMetadata> out = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT p.topic_id, p.partition, p.owner_node, p.leader_epoch, p.log_start_offset, p.high_watermark, "
                    + "p.previous_owner, p.previous_owner_epoch, p.previous_owner_released "
                    + "FROM partitions p JOIN topics t ON t.topic_id = p.topic_id WHERE t.state = 'LIVE' "
                    + "ORDER BY p.topic_id, p.partition");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(row(rs, new TopicPartitionId(rs.getObject(1, UUID.class), rs.getInt(2)), 3));
      }
    }
    return out;
  }

  /** Rows per statement of {@link #highWatermarks}: bounds the statement's size. */
  private static final int HIGH_WATERMARKS_PER_STATEMENT = 500;

  /**
   * The committed high watermarks of {@code partitions} in one round trip per 500 partitions
   * (partitions that no longer exist are absent): read replicas follow the tails of partitions
   * other brokers own with it.
   */
  public CompletableFuture<Map<TopicPartitionId, Long>> highWatermarks(
      Collection<TopicPartitionId> partitions) {
    List<TopicPartitionId> all = List.copyOf(partitions);
    return store.async(
        c -> {
          Map<TopicPartitionId, Long> out = new HashMap<>();
          for (int from = 0; from < all.size(); from += HIGH_WATERMARKS_PER_STATEMENT) {
            List<TopicPartitionId> chunk =
                all.subList(from, Math.min(all.size(), from + HIGH_WATERMARKS_PER_STATEMENT));
            // A row-value IN list: portable to CockroachDB and YugabyteDB, unlike unnest pairs.
            String sql =
                "SELECT topic_id, partition, high_watermark FROM partitions WHERE (topic_id, partition) IN ("
                    + String.join(", ", Collections.nCopies(chunk.size(), "(?, ?)"))
                    + ")";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              int i = 1;
              for (TopicPartitionId tp : chunk) {
                ps.setObject(i++, tp.topicId());
                ps.setInt(i++, tp.partition());
              }
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  out.put(
                      new TopicPartitionId(rs.getObject(1, UUID.class), rs.getInt(2)),
                      rs.getLong(3));
                }
              }
            }
          }
          return out;
        });
  }

  static PartitionMetadata describe(Connection c, TopicPartitionId tp) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT p.owner_node, p.leader_epoch, p.log_start_offset, p.high_watermark, p.previous_owner, "
                + "p.previous_owner_epoch, p.previous_owner_released FROM partitions p "
                + "JOIN topics t ON t.topic_id = p.topic_id AND t.state = 'LIVE' "
                + "WHERE p.topic_id = ? AND p.partition = ?")) {
      ps.setObject(1, tp.topicId());
      ps.setInt(2, tp.partition());
      PartitionMetadata result = single(ps, tp);
      if (result == null) {
        throw unknown(tp);
      }
      return result;
    }
  }

  static StorageException unknown(TopicPartitionId tp) {
    return new StorageException(Kind.UNKNOWN_PARTITION, "partition " + tp + " does not exist");
  }

  private static PartitionMetadata single(PreparedStatement ps, TopicPartitionId tp)
      throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? row(rs, tp, 1) : null;
    }
  }

  private static PartitionMetadata row(ResultSet rs, TopicPartitionId tp, int first)
      throws SQLException {
    int owner = rs.getInt(first);
    OptionalInt ownerOpt = rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(owner);
    int previous = rs.getInt(first + 4);
    OptionalInt previousOpt = rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(previous);
    long previousEpoch = rs.getLong(first + 5);
    return new PartitionMetadata(
        tp,
        ownerOpt,
        rs.getInt(first + 1),
        rs.getLong(first + 2),
        rs.getLong(first + 3),
        previousOpt,
        rs.wasNull() ? -1 : previousEpoch,
        rs.getBoolean(first + 6));
  }
}
