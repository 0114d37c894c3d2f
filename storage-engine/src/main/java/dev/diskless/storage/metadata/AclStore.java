package dev.diskless.storage.metadata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * Access control lists in PostgreSQL (migration V020): every binding a CreateAcls stored, with
 * Kafka's enum codes. Creating a binding that exists already keeps the stored one; deleting by
 * filters matches and removes in one transaction, so concurrent deletes on several brokers each
 * report only what they removed.
 */
public final class AclStore {

  /** Table name, as its change notifications carry it. */
  public static final String TABLE = "acls";

  /** One binding; the bytes are Kafka's codes of its enums. */
  public record Acl(
      UUID id,
      byte resourceType,
      String resourceName,
      byte patternType,
      String principal,
      String host,
      byte operation,
      byte permissionType) {}

  private static final String COLUMNS =
      "id, resource_type, resource_name, pattern_type, principal, host, operation, permission_type";

  private final MetadataStore store;

  public AclStore(MetadataStore store) {
    this.store = store;
  }

  /** Every stored binding. */
  public CompletableFuture<List<Acl>> all() {
    return store.async(c -> read(c, "SELECT " + COLUMNS + " FROM acls ORDER BY id"));
  }

  /** Stores the bindings that are not stored yet, with their ids; the others stay as they are. */
  public CompletableFuture<Void> create(List<Acl> acls) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO acls ("
                      + COLUMNS
                      + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (Acl a : acls) {
              ps.setObject(1, a.id());
              ps.setShort(2, a.resourceType());
              ps.setString(3, a.resourceName());
              ps.setShort(4, a.patternType());
              ps.setString(5, a.principal());
              ps.setString(6, a.host());
              ps.setShort(7, a.operation());
              ps.setShort(8, a.permissionType());
              ps.addBatch();
            }
            ps.executeBatch();
          }
          return null;
        });
  }

  /**
   * Deletes every binding that one of {@code filters} matches, in one transaction that holds the
   * table against concurrent changes; returns, per filter and in its order, the bindings it matched
   * and this call removed.
   */
  public CompletableFuture<List<List<Acl>>> delete(List<Predicate<Acl>> filters) {
    return store.async(
        c -> {
          List<Acl> stored = read(c, "SELECT " + COLUMNS + " FROM acls ORDER BY id FOR UPDATE");
          List<List<Acl>> matched = new ArrayList<>();
          Set<UUID> ids = new LinkedHashSet<>();
          for (Predicate<Acl> f : filters) {
            List<Acl> m = stored.stream().filter(f).toList();
            matched.add(m);
            m.forEach(a -> ids.add(a.id()));
          }
          if (!ids.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM acls WHERE id = ANY (?)")) {
              ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
              ps.executeUpdate();
            }
          }
          return matched;
        });
  }

  private static List<Acl> read(Connection c, String sql) throws SQLException {
    List<Acl> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Acl(
                rs.getObject(1, UUID.class),
                (byte) rs.getShort(2),
                rs.getString(3),
                (byte) rs.getShort(4),
                rs.getString(5),
                rs.getString(6),
                (byte) rs.getShort(7),
                (byte) rs.getShort(8)));
      }
    }
    return out;
  }
}
