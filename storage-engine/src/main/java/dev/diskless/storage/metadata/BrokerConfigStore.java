package dev.diskless.storage.metadata;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Dynamic broker configs in PostgreSQL, per BROKER resource name ({@code ""} is the cluster-wide
 * default, otherwise a node id), as the Admin API sets them. The caller validates names and values;
 * one resource's changes are applied in one transaction.
 */
public final class BrokerConfigStore {

  private final MetadataStore store;

  public BrokerConfigStore(MetadataStore store) {
    this.store = store;
  }

  /** The configs set on {@code broker} (by name, sorted). */
  public CompletableFuture<Map<String, String>> of(String broker) {
    return store.async(
        c -> {
          Map<String, String> out = new TreeMap<>();
          try (PreparedStatement ps =
              c.prepareStatement("SELECT name, value FROM broker_configs WHERE broker = ?")) {
            ps.setString(1, broker);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
              }
            }
          }
          return out;
        });
  }

  /**
   * Sets (a value) or removes (empty) each named config of {@code broker}; with {@code replace},
   * every config not named is removed too (AlterConfigs' semantics).
   */
  public CompletableFuture<Void> apply(
      String broker, Map<String, Optional<String>> changes, boolean replace) {
    Map<String, Optional<String>> copy = new HashMap<>(changes);
    return store.async(
        c -> {
          if (replace) {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM broker_configs WHERE broker = ?")) {
              ps.setString(1, broker);
              ps.executeUpdate();
            }
          }
          try (PreparedStatement delete =
                  c.prepareStatement("DELETE FROM broker_configs WHERE broker = ? AND name = ?");
              PreparedStatement upsert =
                  c.prepareStatement(
                      "INSERT INTO broker_configs (broker, name, value) VALUES (?, ?, ?)"
                          + " ON CONFLICT (broker, name) DO UPDATE SET value = EXCLUDED.value")) {
            for (var e : copy.entrySet()) {
              if (e.getValue().isPresent()) {
                upsert.setString(1, broker);
                upsert.setString(2, e.getKey());
                upsert.setString(3, e.getValue().get());
                upsert.addBatch();
              } else {
                delete.setString(1, broker);
                delete.setString(2, e.getKey());
                delete.addBatch();
              }
            }
            delete.executeBatch();
            upsert.executeBatch();
          }
          return null;
        });
  }
}
