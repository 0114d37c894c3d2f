package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.util.OptionalInt;

/**
 * A partition's committed state: owner, leader epoch and the bounds of its log, and who owned it
 * before (node id and registration epoch, -1 if unknown) and whether that owner handed it over
 * itself ({@code previousOwnerReleased}) or lost it by failover or fencing.
 */
public record PartitionMetadata(
    TopicPartitionId partition,
    OptionalInt owner,
    int leaderEpoch,
    long logStartOffset,
    long highWatermark,
    OptionalInt previousOwner,
    long previousOwnerEpoch,
    boolean previousOwnerReleased) {

  public PartitionMetadata(
      TopicPartitionId partition,
      OptionalInt owner,
      int leaderEpoch,
      long logStartOffset,
      long highWatermark) {
    this(
        partition,
        owner,
        leaderEpoch,
        logStartOffset,
        highWatermark,
        OptionalInt.empty(),
        -1,
        true);
  }
}
