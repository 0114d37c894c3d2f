package dev.diskless.broker.topicconfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.storage.internals.log.LogConfig;

/**
 * Checks a topic's whole resulting config set as Kafka 4.4's KRaft controller does ({@code
 * ControllerConfigurationValidator}): names, types, ranges and cross-config rules all come from
 * kafka-storage's {@link LogConfig}, so messages are Kafka's own. Tiered-storage rules apply as on
 * a Kafka cluster with tiered storage enabled, since every topic's data is in object storage
 * anyway. Every failure is an {@link InvalidConfigurationException} (INVALID_CONFIG).
 */
public final class TopicConfigValidator {

  /** Kafka's topic defaults, typed: the broker-level values the topic configs fall back to. */
  private final Map<String, Object> defaults = Collections.unmodifiableMap(defaultValues());

  private static Map<String, Object> defaultValues() {
    return new HashMap<>(new LogConfig(Map.of()).values());
  }

  /**
   * Throws {@link InvalidConfigurationException} naming the config if {@code configs}, the topic's
   * configs after the change, are not valid; {@code existing} are its configs before (some of
   * Kafka's rules are about transitions, e.g. turning remote storage off).
   */
  public void validate(Map<String, String> configs, Map<String, String> existing) {
    List<String> nulls = new ArrayList<>();
    configs.forEach(
        (k, v) -> {
          if (v == null) {
            nulls.add(k);
          }
        });
    if (!nulls.isEmpty()) {
      throw new InvalidConfigurationException(
          "Null value not supported for topic configs: " + String.join(",", nulls));
    }
    try {
      LogConfig.validate(existing, configs, defaults, true);
    } catch (ConfigException e) {
      throw new InvalidConfigurationException(e.getMessage());
    }
  }
}
