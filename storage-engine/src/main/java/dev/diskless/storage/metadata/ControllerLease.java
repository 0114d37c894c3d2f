package dev.diskless.storage.metadata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The single cluster-wide controller lease (one row): the broker holding it assigns orphaned
 * partitions and balances ownership. Taken when free or expired, by the database's clock, and
 * renewed by its holder; a new holder bumps the epoch. Nothing relies on the lease for safety —
 * every ownership change is itself conditional on epochs and broker leases — it only keeps two
 * brokers from making competing decisions.
 */
public final class ControllerLease {

  private final MetadataStore store;

  public ControllerLease(MetadataStore store) {
    this.store = store;
  }

  /**
   * Takes or renews the lease for {@code nodeId} if it is free, expired or already its own; returns
   * the epoch if {@code nodeId} holds it now.
   */
  public CompletableFuture<java.util.OptionalLong> tryHold(int nodeId, Duration lease) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE controller_lease SET lease_epoch = CASE WHEN holder_node = ? THEN lease_epoch "
                      + "ELSE lease_epoch + 1 END, holder_node = ?, "
                      + "lease_expires_at = now() + ? * interval '1 millisecond' "
                      + "WHERE id = 1 AND (holder_node IS NULL OR holder_node = ? OR lease_expires_at < now()) "
                      + "RETURNING lease_epoch")) {
            ps.setInt(1, nodeId);
            ps.setInt(2, nodeId);
            ps.setLong(3, lease.toMillis());
            ps.setInt(4, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? java.util.OptionalLong.of(rs.getLong(1))
                  : java.util.OptionalLong.empty();
            }
          }
        });
  }

  /** Gives the lease up at once (clean shutdown) if {@code nodeId} holds it. */
  public CompletableFuture<Void> release(int nodeId) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE controller_lease SET holder_node = NULL, lease_expires_at = now() "
                      + "WHERE id = 1 AND holder_node = ?")) {
            ps.setInt(1, nodeId);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** The current holder and when its lease ends (on this process's clock), if it is running. */
  public CompletableFuture<Optional<Holder>> holder() {
    return store.async(ControllerLease::holder);
  }

  static Optional<Holder> holder(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT holder_node, EXTRACT(EPOCH FROM lease_expires_at - now()) * 1000 "
                    + "FROM controller_lease WHERE id = 1 AND holder_node IS NOT NULL "
                    + "AND lease_expires_at >= now()");
        ResultSet rs = ps.executeQuery()) {
      Instant now = Instant.now();
      return rs.next()
          ? Optional.of(new Holder(rs.getInt(1), now.plusMillis((long) rs.getDouble(2))))
          : Optional.empty();
    }
  }

  /** Who holds the controller lease, and until when by the reader's clock. */
  public record Holder(int node, Instant expiresAt) {}
}
