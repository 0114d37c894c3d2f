package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Reads everything a broker caches about the cluster — live brokers, topics, partitions, pending
 * moves, operators' placements and the controller lease — in one read-only snapshot transaction:
 * the parts agree with each other (no partition of a topic the same read does not list), and a full
 * refresh costs the metadata store one transaction instead of six.
 */
public final class ClusterReads {

  /**
   * One consistent read of the cluster's metadata. {@code snapshot} orders reads: a read with a
   * higher one saw everything a lower one saw (PostgreSQL's snapshot xmax), so a caller can keep a
   * slow older read from replacing a newer one.
   */
  public record Picture(
      List<BrokerInfo> brokers,
      List<TopicInfo> topics,
      List<PartitionMetadata> partitions,
      Map<TopicPartitionId, Integer> moves,
      Map<TopicPartitionId, Integer> preferredOwners,
      Optional<ControllerLease.Holder> controllerLease,
      long snapshot) {}

  private final MetadataStore store;

  public ClusterReads(MetadataStore store) {
    this.store = store;
  }

  public CompletableFuture<Picture> read() {
    return store.async(
        c -> {
          try (Statement s = c.createStatement()) {
            // The first statement of the transaction: every read below sees one snapshot.
            s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
          }
          return read(c);
        });
  }

  private static Picture read(java.sql.Connection c) throws SQLException {
    long snapshot;
    try (Statement s = c.createStatement();
        java.sql.ResultSet rs =
            s.executeQuery("SELECT txid_snapshot_xmax(txid_current_snapshot())")) {
      rs.next();
      snapshot = rs.getLong(1);
    }
    return new Picture(
        BrokerRegistry.live(c),
        TopicStore.list(c),
        PartitionOwnership.all(c),
        PartitionMoves.all(c),
        PartitionMoves.preferredOwners(c),
        ControllerLease.holder(c),
        snapshot);
  }
}
