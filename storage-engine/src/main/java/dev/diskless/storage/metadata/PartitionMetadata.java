package dev.diskless.storage.metadata;

import dev.diskless.storage.TopicPartitionId;
import java.util.OptionalInt;

/** A partition's committed state: owner, leader epoch and the bounds of its log. */
public record PartitionMetadata(
    TopicPartitionId partition,
    OptionalInt owner,
    int leaderEpoch,
    long logStartOffset,
    long highWatermark) {}
