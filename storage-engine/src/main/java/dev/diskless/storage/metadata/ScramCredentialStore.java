package dev.diskless.storage.metadata;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * SCRAM credentials in PostgreSQL: per user and mechanism, the salt, stored key, server key and
 * iterations that a SCRAM server checks a client's proof against. Changes of one request are
 * applied in one transaction.
 */
public final class ScramCredentialStore {

  /** One user's credential for one mechanism (Kafka's ScramMechanism type: 1 or 2). */
  public record Credential(
      String user,
      byte mechanism,
      byte[] salt,
      byte[] storedKey,
      byte[] serverKey,
      int iterations) {}

  /** A credential to remove. */
  public record Key(String user, byte mechanism) {}

  private final MetadataStore store;

  public ScramCredentialStore(MetadataStore store) {
    this.store = store;
  }

  /** Every stored credential. */
  public CompletableFuture<List<Credential>> all() {
    return store.async(
        c -> {
          List<Credential> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT user_name, mechanism, salt, stored_key, server_key, iterations"
                          + " FROM scram_credentials ORDER BY user_name, mechanism");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(read(rs));
            }
          }
          return out;
        });
  }

  /** The credentials of one user (one per mechanism it has). */
  public CompletableFuture<List<Credential>> ofUser(String user) {
    return store.async(
        c -> {
          List<Credential> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT user_name, mechanism, salt, stored_key, server_key, iterations"
                      + " FROM scram_credentials WHERE user_name = ? ORDER BY mechanism")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(read(rs));
              }
            }
          }
          return out;
        });
  }

  private static Credential read(ResultSet rs) throws java.sql.SQLException {
    return new Credential(
        rs.getString(1),
        (byte) rs.getShort(2),
        rs.getBytes(3),
        rs.getBytes(4),
        rs.getBytes(5),
        rs.getInt(6));
  }

  /** Removes {@code deletions} and writes {@code upsertions}, all or nothing. */
  public CompletableFuture<Void> apply(List<Key> deletions, List<Credential> upsertions) {
    return store.async(
        c -> {
          try (PreparedStatement delete =
                  c.prepareStatement(
                      "DELETE FROM scram_credentials WHERE user_name = ? AND mechanism = ?");
              PreparedStatement upsert =
                  c.prepareStatement(
                      "INSERT INTO scram_credentials"
                          + " (user_name, mechanism, salt, stored_key, server_key, iterations)"
                          + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_name, mechanism) DO UPDATE"
                          + " SET salt = EXCLUDED.salt, stored_key = EXCLUDED.stored_key,"
                          + " server_key = EXCLUDED.server_key, iterations = EXCLUDED.iterations")) {
            for (Key k : deletions) {
              delete.setString(1, k.user());
              delete.setShort(2, k.mechanism());
              delete.addBatch();
            }
            for (Credential cr : upsertions) {
              upsert.setString(1, cr.user());
              upsert.setShort(2, cr.mechanism());
              upsert.setBytes(3, cr.salt());
              upsert.setBytes(4, cr.storedKey());
              upsert.setBytes(5, cr.serverKey());
              upsert.setInt(6, cr.iterations());
              upsert.addBatch();
            }
            delete.executeBatch();
            upsert.executeBatch();
          }
          return null;
        });
  }
}
