package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Loads and writes idempotent-producer state; writes happen only inside a WAL commit transaction.
 */
public final class ProducerStateStore {

  private final MetadataStore store;

  public ProducerStateStore(MetadataStore store) {
    this.store = store;
  }

  public CompletableFuture<Map<Long, ProducerSnapshot>> load(TopicPartitionId tp) {
    return store.async(
        c -> {
          Map<Long, ProducerSnapshot> out = new HashMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT producer_id, producer_epoch, last_timestamp, recent_batches, txn_first_offset,"
                      + " coordinator_epoch FROM producer_state "
                      + "WHERE topic_id = ? AND partition = ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long pid = rs.getLong(1);
                out.put(
                    pid,
                    new ProducerSnapshot(
                        pid,
                        rs.getShort(2),
                        rs.getLong(3),
                        ProducerSnapshot.decodeRecent(rs.getBytes(4)),
                        rs.getLong(5),
                        rs.getInt(6)));
              }
            }
          }
          return out;
        });
  }
}
