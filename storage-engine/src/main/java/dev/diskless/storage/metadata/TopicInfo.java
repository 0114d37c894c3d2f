package dev.diskless.storage.metadata;

import java.util.Map;
import java.util.UUID;

/** A live topic as stored in metadata. */
public record TopicInfo(
    UUID topicId, String name, int partitionCount, Map<String, String> configs) {
  public TopicInfo {
    configs = Map.copyOf(configs);
  }
}
