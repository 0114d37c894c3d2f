package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The start offset of each leader epoch of a partition (Kafka's leader-epoch cache, kept in
 * metadata): recorded by the owner when it opens the partition at a new epoch, before it appends.
 */
public final class LeaderEpochs {

  private final MetadataStore store;

  public LeaderEpochs(MetadataStore store) {
    this.store = store;
  }

  /**
   * Records that {@code epoch} of {@code tp} starts at {@code startOffset}; a repeat is a no-op.
   */
  public CompletableFuture<Void> recordStart(TopicPartitionId tp, int epoch, long startOffset) {
    return store.async(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO leader_epochs (topic_id, partition, leader_epoch, start_offset) "
                      + "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            ps.setInt(3, epoch);
            ps.setLong(4, startOffset);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** Epoch → start offset, in epoch order. */
  public CompletableFuture<NavigableMap<Integer, Long>> of(TopicPartitionId tp) {
    return store.async(
        c -> {
          NavigableMap<Integer, Long> out = new TreeMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT leader_epoch, start_offset FROM leader_epochs "
                      + "WHERE topic_id = ? AND partition = ?")) {
            ps.setObject(1, tp.topicId());
            ps.setInt(2, tp.partition());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(rs.getInt(1), rs.getLong(2));
              }
            }
          }
          return out;
        });
  }

  /**
   * Kafka's answer to "where does {@code requested} end": the largest known epoch at or below it
   * and the start of the next one; for the current epoch, {@code endOffset}; (-1, -1) if unknown.
   */
  public static Map.Entry<Integer, Long> endOffsetFor(
      NavigableMap<Integer, Long> epochs, int requested, int currentEpoch, long endOffset) {
    if (requested < 0) {
      return Map.entry(-1, -1L);
    }
    if (requested == currentEpoch) {
      return Map.entry(requested, endOffset);
    }
    Map.Entry<Integer, Long> higher = epochs.higherEntry(requested);
    if (higher == null) {
      // Above every epoch this partition has had (or a partition opened before epochs were kept).
      return requested < currentEpoch ? Map.entry(requested, endOffset) : Map.entry(-1, -1L);
    }
    Map.Entry<Integer, Long> floor = epochs.floorEntry(requested);
    return floor == null
        ? Map.entry(requested, higher.getValue())
        : Map.entry(floor.getKey(), higher.getValue());
  }
}
