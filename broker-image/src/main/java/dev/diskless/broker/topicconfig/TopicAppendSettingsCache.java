package dev.diskless.broker.topicconfig;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Parsed {@link TopicAppendSettings} by config set, so a produce request does not parse a topic's
 * configs with Kafka's ConfigDef on the event loop every time. Topics with the same configs share
 * an entry; a changed config set is a new key. Bounded: when full it starts over, which costs one
 * parse per config set in use.
 */
public final class TopicAppendSettingsCache {

  private static final int MAX_ENTRIES = 4096;

  private final Map<Map<String, String>, TopicAppendSettings> parsed = new ConcurrentHashMap<>();

  /** The settings for a topic's stored {@code configs}. */
  public TopicAppendSettings settings(Map<String, String> configs) {
    TopicAppendSettings cached = parsed.get(configs);
    if (cached != null) {
      return cached;
    }
    if (parsed.size() >= MAX_ENTRIES) {
      parsed.clear();
    }
    TopicAppendSettings settings = TopicAppendSettings.of(configs);
    parsed.put(Map.copyOf(configs), settings);
    return settings;
  }
}
