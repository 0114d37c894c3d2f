package dev.diskless.broker.group;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metadata.FeatureLevelRecord;
import org.apache.kafka.common.metadata.PartitionRecord;
import org.apache.kafka.common.metadata.RemoveTopicRecord;
import org.apache.kafka.common.metadata.TopicRecord;
import org.apache.kafka.image.MetadataDelta;
import org.apache.kafka.image.MetadataImage;
import org.apache.kafka.image.MetadataProvenance;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * Expresses our topics as the KRaft metadata image Kafka's group coordinator reads (topic names,
 * ids and partition counts, for KIP-848 assignment and for dropping offsets of deleted topics).
 * Only topic creation, deletion and new partitions make a delta: ownership moves are invisible to
 * the coordinator, so they never trigger rebalances. Not thread-safe; one caller at a time.
 */
final class MetadataImages {

  /** An image and the change that produced it. */
  record Update(MetadataDelta delta, MetadataImage image) {}

  private MetadataImage image = MetadataImage.EMPTY;
  private final Map<UUID, Integer> partitionCounts = new HashMap<>();
  private long offset;

  /** The next image if {@code topics} differ from the last ones seen, else null. */
  Update update(Collection<TopicInfo> topics) {
    MetadataDelta delta = new MetadataDelta.Builder().setImage(image).build();
    boolean changed = false;
    if (image.isEmpty()) {
      delta.replay(
          new FeatureLevelRecord()
              .setName(MetadataVersion.FEATURE_NAME)
              .setFeatureLevel(MetadataVersion.latestProduction().featureLevel()));
      changed = true;
    }
    Map<UUID, TopicInfo> seen = new HashMap<>();
    for (TopicInfo t : topics) {
      seen.put(t.topicId(), t);
      Integer known = partitionCounts.get(t.topicId());
      Uuid id = uuid(t.topicId());
      if (known == null) {
        delta.replay(new TopicRecord().setName(t.name()).setTopicId(id));
        known = 0;
      }
      for (int p = known; p < t.partitionCount(); p++) {
        // A fixed placeholder replica: leadership is ours to track, not the coordinator's.
        delta.replay(
            new PartitionRecord()
                .setTopicId(id)
                .setPartitionId(p)
                .setReplicas(List.of(0))
                .setIsr(List.of(0))
                .setLeader(0)
                .setLeaderEpoch(0)
                .setPartitionEpoch(0));
        changed = true;
      }
      partitionCounts.put(t.topicId(), Math.max(known, t.partitionCount()));
    }
    for (UUID gone : List.copyOf(partitionCounts.keySet())) {
      if (!seen.containsKey(gone)) {
        delta.replay(new RemoveTopicRecord().setTopicId(uuid(gone)));
        partitionCounts.remove(gone);
        changed = true;
      }
    }
    if (!changed) {
      return null;
    }
    image = delta.apply(new MetadataProvenance(++offset, 0, 0, true));
    return new Update(delta, image);
  }

  static Uuid uuid(UUID id) {
    return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
  }
}
