package dev.diskless.storage.metadata;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.util.Optional;

/**
 * Bounds on how many partitions a topic and all live topics together may have. Every partition is a
 * metadata row that each broker's cluster view loads, so an unbounded count (a CreateTopics with
 * 2,147,483,647 partitions) exhausts memory long before the request could finish.
 *
 * @param perTopic most partitions one topic may have
 * @param perCluster most partitions all live topics together may have
 */
public record PartitionLimits(int perTopic, int perCluster) {

  /** The broker settings these mirror. */
  public static final String PER_TOPIC_KEY = "max.partitions.per.topic";

  public static final String PER_CLUSTER_KEY = "max.partitions.per.cluster";

  /** For topics the brokers create themselves (the offsets topic): bounded only by the type. */
  public static final PartitionLimits NONE =
      new PartitionLimits(Integer.MAX_VALUE, Integer.MAX_VALUE);

  public PartitionLimits {
    if (perTopic < 1 || perCluster < 1) {
      throw new IllegalArgumentException(
          PER_TOPIC_KEY
              + " and "
              + PER_CLUSTER_KEY
              + " must be positive, got "
              + perTopic
              + " and "
              + perCluster);
    }
  }

  /** Why a topic may not have {@code count} partitions, if it may not. */
  public Optional<String> checkTopic(String topic, long count) {
    return count <= perTopic
        ? Optional.empty()
        : Optional.of(
            "topic "
                + topic
                + " would have "
                + count
                + " partitions; "
                + PER_TOPIC_KEY
                + " is "
                + perTopic);
  }

  /**
   * Why {@code adding} more partitions may not join the {@code existing} ones of the cluster, if
   * they may not.
   */
  public Optional<String> checkCluster(long existing, long adding) {
    return existing + adding <= perCluster
        ? Optional.empty()
        : Optional.of(
            "the cluster has "
                + existing
                + " partitions; "
                + adding
                + " more would exceed "
                + PER_CLUSTER_KEY
                + " = "
                + perCluster);
  }

  static void enforce(Optional<String> problem) {
    if (problem.isPresent()) {
      throw new StorageException(Kind.LIMIT_EXCEEDED, problem.get());
    }
  }
}
