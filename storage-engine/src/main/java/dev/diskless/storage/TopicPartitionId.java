package dev.diskless.storage;

import java.util.Objects;
import java.util.UUID;

/**
 * A partition of a topic, named by the topic's immutable id rather than its name so that a topic
 * deleted and re-created under the same name never shares storage with its predecessor. The natural
 * order is the order in which metadata rows are locked, which keeps concurrent commits free of
 * deadlocks.
 */
public record TopicPartitionId(UUID topicId, int partition)
    implements Comparable<TopicPartitionId> {

  public TopicPartitionId {
    Objects.requireNonNull(topicId, "topicId");
    if (partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0, got " + partition);
    }
  }

  @Override
  public int compareTo(TopicPartitionId other) {
    // Unsigned, most significant half first: the byte order PostgreSQL sorts uuids in, so rows are
    // locked in the
    // same order whether the sort happened in Java or in SQL.
    int c =
        Long.compareUnsigned(
            topicId.getMostSignificantBits(), other.topicId.getMostSignificantBits());
    if (c == 0) {
      c =
          Long.compareUnsigned(
              topicId.getLeastSignificantBits(), other.topicId.getLeastSignificantBits());
    }
    return c != 0 ? c : Integer.compare(partition, other.partition);
  }

  @Override
  public String toString() {
    return topicId + "-" + partition;
  }
}
