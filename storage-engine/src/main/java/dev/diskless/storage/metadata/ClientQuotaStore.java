package dev.diskless.storage.metadata;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Client quotas in PostgreSQL (migration V021): a value per entity and quota key, where an entity
 * is a user part and a client-id part, each absent, the default, or a name. Changes of one request
 * are applied in one transaction.
 */
public final class ClientQuotaStore {

  /** Table name, as its change notifications carry it. */
  public static final String TABLE = "client_quotas";

  /**
   * One part of an entity: empty when the entity has no such part; otherwise the name, or null for
   * the default.
   */
  public record Part(boolean present, String name) {

    public static final Part ABSENT = new Part(false, null);
    public static final Part DEFAULT = new Part(true, null);

    public static Part named(String name) {
      return new Part(true, name);
    }

    short kind() {
      return (short) (!present ? 0 : name == null ? 1 : 2);
    }

    String stored() {
      return name == null ? "" : name;
    }

    static Part of(short kind, String name) {
      return switch (kind) {
        case 0 -> ABSENT;
        case 1 -> DEFAULT;
        default -> named(name);
      };
    }
  }

  /** A quota entity. */
  public record Entity(Part user, Part clientId) {}

  /** One stored value. */
  public record Quota(Entity entity, String key, double value) {}

  /** A change: a new value, or a removal when {@code value} is empty. */
  public record Change(Entity entity, String key, Optional<Double> value) {}

  private final MetadataStore store;

  public ClientQuotaStore(MetadataStore store) {
    this.store = store;
  }

  /** Every stored quota. */
  public CompletableFuture<List<Quota>> all() {
    return store.async(
        c -> {
          List<Quota> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT user_kind, user_name, client_id_kind, client_id, quota_key, value"
                          + " FROM client_quotas");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(
                  new Quota(
                      new Entity(
                          Part.of(rs.getShort(1), rs.getString(2)),
                          Part.of(rs.getShort(3), rs.getString(4))),
                      rs.getString(5),
                      rs.getDouble(6)));
            }
          }
          return out;
        });
  }

  /** Applies every change, all or nothing. */
  public CompletableFuture<Void> apply(List<Change> changes) {
    return store.async(
        c -> {
          try (PreparedStatement upsert =
                  c.prepareStatement(
                      "INSERT INTO client_quotas"
                          + " (user_kind, user_name, client_id_kind, client_id, quota_key, value)"
                          + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT"
                          + " (user_kind, user_name, client_id_kind, client_id, quota_key)"
                          + " DO UPDATE SET value = EXCLUDED.value");
              PreparedStatement delete =
                  c.prepareStatement(
                      "DELETE FROM client_quotas WHERE user_kind = ? AND user_name = ?"
                          + " AND client_id_kind = ? AND client_id = ? AND quota_key = ?")) {
            for (Change ch : changes) {
              PreparedStatement ps = ch.value().isPresent() ? upsert : delete;
              bind(ps, ch.entity(), ch.key());
              ch.value().ifPresent(v -> set(ps, v));
              ps.addBatch();
            }
            upsert.executeBatch();
            delete.executeBatch();
          }
          return null;
        });
  }

  private static void bind(PreparedStatement ps, Entity e, String key) throws SQLException {
    ps.setShort(1, e.user().kind());
    ps.setString(2, e.user().stored());
    ps.setShort(3, e.clientId().kind());
    ps.setString(4, e.clientId().stored());
    ps.setString(5, key);
  }

  private static void set(PreparedStatement ps, double value) {
    try {
      ps.setDouble(6, value);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
