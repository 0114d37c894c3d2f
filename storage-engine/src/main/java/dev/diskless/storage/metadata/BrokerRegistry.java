package dev.diskless.storage.metadata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Leased broker node ids. A broker takes the lowest node id that is free or whose lease has
 * expired, and must renew its lease before it runs out. All times are PostgreSQL's {@code now()}:
 * there is one clock for leases, so broker clock skew cannot make two brokers believe they hold the
 * same id. What a broker may assume about its own clock is only that it does not run more than a
 * few percent slower than the database's, which the renewal margin covers.
 */
public final class BrokerRegistry {

  private final MetadataStore store;

  public BrokerRegistry(MetadataStore store) {
    this.store = store;
  }

  /**
   * Leases a node id for this broker instance: its own earlier id if it had one (a restarted
   * container, or a broker rejoining after its lease ran out), else the lowest expired id, else a
   * new one. The registration epoch grows every time. Partitions still owned by a reused id are
   * fenced in the same transaction (their leader epoch bumped, the earlier registration recorded as
   * a previous owner that did not release them), so nothing the earlier holder had in flight can
   * commit any more, and a volume-WAL owner replays what that holder acknowledged.
   */
  public CompletableFuture<BrokerRegistration> register(
      String instanceId, String host, int port, Optional<String> rack, Duration lease) {
    return register(instanceId, List.of(new BrokerEndpoint("PLAINTEXT", host, port)), rack, lease);
  }

  /**
   * As {@link #register(String, String, int, Optional, Duration)} with one endpoint per listener,
   * the inter-broker listener's first.
   */
  public CompletableFuture<BrokerRegistration> register(
      String instanceId, List<BrokerEndpoint> endpoints, Optional<String> rack, Duration lease) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("a broker registers at least one endpoint");
    }
    String host = endpoints.get(0).host();
    int port = endpoints.get(0).port();
    String endpointText = BrokerEndpoint.format(endpoints);
    return store.async(
        c -> {
          try (var lock = c.createStatement()) {
            // Serialises registrations so that two brokers never pick the same free id.
            lock.execute("LOCK TABLE brokers IN SHARE ROW EXCLUSIVE MODE");
          }
          // Reuse an expired id (lowest first), or take the smallest id never used.
          Integer reusable = null;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT node_id FROM brokers WHERE lease_expires_at < now() OR instance_id = ? "
                      + "ORDER BY (instance_id = ?) DESC, node_id LIMIT 1")) {
            ps.setString(1, instanceId);
            ps.setString(2, instanceId);
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                reusable = rs.getInt(1);
              }
            }
          }
          if (reusable != null) {
            fenceOwnedPartitions(c, reusable);
          }
          String sql =
              reusable != null
                  ? "UPDATE brokers SET instance_id = ?, broker_epoch = broker_epoch + 1, host = ?, port = ?, rack = ?, endpoints = ?, draining = FALSE, serving = FALSE, "
                      + "registered_at = now(), lease_expires_at = now() + ? * interval '1 millisecond' "
                      + "WHERE node_id = ? RETURNING node_id, broker_epoch"
                  : "INSERT INTO brokers (node_id, instance_id, broker_epoch, host, port, rack, endpoints, registered_at, lease_expires_at, serving) "
                      + "SELECT COALESCE(MAX(node_id) + 1, 0), ?, 1, ?, ?, ?, ?, now(), now() + ? * interval '1 millisecond', FALSE "
                      + "FROM brokers RETURNING node_id, broker_epoch";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, instanceId);
            ps.setString(2, host);
            ps.setInt(3, port);
            ps.setString(4, rack.orElse(null));
            ps.setString(5, endpointText);
            ps.setLong(6, lease.toMillis());
            if (reusable != null) {
              ps.setInt(7, reusable);
            }
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return new BrokerRegistration(rs.getInt(1), rs.getLong(2));
            }
          }
        });
  }

  /**
   * Runs before the id's registration row changes, so that {@code previous_owner_epoch} names the
   * earlier registration.
   */
  private static void fenceOwnedPartitions(Connection c, int nodeId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE partitions SET previous_owner = owner_node, previous_owner_released = FALSE, "
                + "previous_owner_epoch = (SELECT b.broker_epoch FROM brokers b WHERE b.node_id = partitions.owner_node), "
                + "leader_epoch = leader_epoch + 1 WHERE owner_node = ?")) {
      ps.setInt(1, nodeId);
      ps.executeUpdate();
    }
  }

  /**
   * Extends a running lease. An expired lease is never extended, even when nobody took the id over:
   * by then other brokers may have taken this broker's partitions (a volume-WAL owner only waits
   * for the lease to expire once), so acting on it again would break fencing. The broker must
   * register anew instead. The outcome says which of the two happened.
   */
  public CompletableFuture<LeaseRenewal> renew(BrokerRegistration registration, Duration lease) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE brokers SET lease_expires_at = now() + ? * interval '1 millisecond' "
                      + "WHERE node_id = ? AND broker_epoch = ? AND lease_expires_at >= now()")) {
            ps.setLong(1, lease.toMillis());
            ps.setInt(2, registration.nodeId());
            ps.setLong(3, registration.brokerEpoch());
            if (ps.executeUpdate() == 1) {
              return LeaseRenewal.SUCCESS;
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT broker_epoch, instance_id, "
                      + "(EXTRACT(EPOCH FROM (now() - lease_expires_at)) * 1000)::BIGINT "
                      + "FROM brokers WHERE node_id = ?")) {
            ps.setInt(1, registration.nodeId());
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return LeaseRenewal.takenOver("node id " + registration.nodeId() + " is gone");
              }
              if (rs.getLong(1) != registration.brokerEpoch()) {
                return LeaseRenewal.takenOver(
                    "node id "
                        + registration.nodeId()
                        + " is now registered with epoch "
                        + rs.getLong(1)
                        + " by instance "
                        + rs.getString(2));
              }
              return LeaseRenewal.expired(
                  "lease of node "
                      + registration.nodeId()
                      + " epoch "
                      + registration.brokerEpoch()
                      + " expired "
                      + rs.getLong(3)
                      + " ms ago by PostgreSQL's clock; nobody took the id over");
            }
          }
        });
  }

  /**
   * Ends the lease at once (clean shutdown), so that the controller moves nothing more to this
   * broker.
   */
  public CompletableFuture<Void> deregister(BrokerRegistration registration) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE brokers SET lease_expires_at = now() - interval '1 millisecond' "
                      + "WHERE node_id = ? AND broker_epoch = ?")) {
            ps.setInt(1, registration.nodeId());
            ps.setLong(2, registration.brokerEpoch());
            ps.executeUpdate();
          }
          return null;
        });
  }

  /**
   * Marks this registration as serving: started, so it may be given partitions and is listed to
   * clients. A broker registers before it has started; until then it is live but neither.
   */
  public CompletableFuture<Void> markServing(BrokerRegistration registration) {
    return setFlag(registration, "serving");
  }

  /** Marks the registration as shutting down: the controller stops giving it partitions. */
  public CompletableFuture<Void> markDraining(BrokerRegistration registration) {
    return setFlag(registration, "draining");
  }

  /** Sets a state column of this registration's row (not of a later registration of its id). */
  private CompletableFuture<Void> setFlag(BrokerRegistration registration, String column) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE brokers SET "
                      + column
                      + " = TRUE WHERE node_id = ? AND broker_epoch = ?")) {
            ps.setInt(1, registration.nodeId());
            ps.setLong(2, registration.brokerEpoch());
            ps.executeUpdate();
          }
          return null;
        });
  }

  /**
   * Whether the registration {@code (nodeId, brokerEpoch)} still holds a running lease, by the
   * database's clock. A node id taken over by a newer registration means the old one expired.
   */
  public CompletableFuture<Boolean> leaseRunning(int nodeId, long brokerEpoch) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT 1 FROM brokers WHERE node_id = ? AND broker_epoch = ? AND lease_expires_at >= now()")) {
            ps.setInt(1, nodeId);
            ps.setLong(2, brokerEpoch);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  /** The current registration epoch of a node id, if it was ever registered. */
  public CompletableFuture<java.util.OptionalLong> currentEpoch(int nodeId) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT broker_epoch FROM brokers WHERE node_id = ?")) {
            ps.setInt(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? java.util.OptionalLong.of(rs.getLong(1))
                  : java.util.OptionalLong.empty();
            }
          }
        });
  }

  /** Brokers whose lease is still running, by node id. */
  public CompletableFuture<List<BrokerInfo>> live() {
    return store.async(BrokerRegistry::live);
  }

  static List<BrokerInfo> live(Connection c) throws SQLException {
    List<BrokerInfo> out = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT node_id, broker_epoch, host, port, rack, "
                    + "EXTRACT(EPOCH FROM lease_expires_at - now()) * 1000, draining, serving, endpoints FROM brokers "
                    + "WHERE lease_expires_at >= now() ORDER BY node_id");
        ResultSet rs = ps.executeQuery()) {
      // The database's clock decides expiry; the caller gets the time left on its own clock.
      Instant now = Instant.now();
      while (rs.next()) {
        Instant expires = now.plusMillis((long) rs.getDouble(6));
        out.add(
            new BrokerInfo(
                rs.getInt(1),
                rs.getLong(2),
                rs.getString(3),
                rs.getInt(4),
                Optional.ofNullable(rs.getString(5)),
                expires,
                rs.getBoolean(7),
                rs.getBoolean(8),
                BrokerEndpoint.parse(rs.getString(9))));
      }
    }
    return out;
  }
}
