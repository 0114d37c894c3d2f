package dev.diskless.broker.topicconfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;
import org.apache.kafka.server.config.ServerConfigs;
import org.apache.kafka.server.config.ServerTopicConfigSynonyms;
import org.apache.kafka.server.log.remote.storage.RemoteLogManagerConfig;
import org.apache.kafka.storage.internals.log.CleanerConfig;
import org.apache.kafka.storage.internals.log.LogConfig;

/**
 * A topic's effective configs as Kafka 4.4's {@code ConfigHelper.createTopicConfigEntry} reports
 * them: every non-internal topic config plus any config set on the topic, each with its value in
 * Kafka's string form, DYNAMIC_TOPIC_CONFIG when set on the topic and DEFAULT_CONFIG otherwise, its
 * type, and on request its documentation and synonyms (the topic value, then the broker config of
 * the same meaning with Kafka's static default, when that default is not null). This broker takes
 * no broker-level log settings, so Kafka's defaults are the only broker values there are; sources
 * STATIC_BROKER_CONFIG and DYNAMIC_*_BROKER_CONFIG never occur.
 */
public final class TopicConfigDescriber {

  /** One synonym of a config, most specific first. */
  public record Synonym(String name, String value, ConfigSource source) {}

  /** One config of a topic as DescribeConfigs and CreateTopics report it. */
  public record Entry(
      String name,
      String value,
      ConfigSource source,
      boolean sensitive,
      ConfigType type,
      List<Synonym> synonyms,
      String documentation) {}

  /** Broker config name → Kafka's static default as a string, for those with a non-null one. */
  private final Map<String, String> brokerDefaults = brokerDefaults();

  private static Map<String, String> brokerDefaults() {
    Map<String, String> out = new HashMap<>();
    for (ConfigDef def :
        List.of(
            LogConfig.SERVER_CONFIG_DEF,
            ServerConfigs.CONFIG_DEF,
            CleanerConfig.CONFIG_DEF,
            RemoteLogManagerConfig.configDef())) {
      def.configKeys()
          .forEach(
              (name, key) -> {
                if (key.hasDefault() && key.defaultValue != null) {
                  out.putIfAbsent(name, ConfigDef.convertToString(key.defaultValue, key.type));
                }
              });
    }
    return Map.copyOf(out);
  }

  /**
   * The entries of a topic whose explicitly set configs are {@code set}, restricted to {@code
   * names} unless that is null or empty, sorted by name.
   */
  public List<Entry> describe(
      Map<String, String> set,
      List<String> names,
      boolean includeSynonyms,
      boolean includeDocumentation) {
    LogConfig effective = new LogConfig(set);
    Map<String, ?> values = effective.values();
    TreeSet<String> shown = new TreeSet<>(LogConfig.nonInternalConfigNames());
    shown.addAll(set.keySet());
    if (names != null && !names.isEmpty()) {
      shown.retainAll(names);
    }
    List<Entry> out = new ArrayList<>();
    for (String name : shown) {
      Optional<ConfigDef.Type> type = LogConfig.configType(name);
      boolean sensitive = type.isEmpty() || type.get() == ConfigDef.Type.PASSWORD;
      String value =
          sensitive ? null : ConfigDef.convertToString(values.get(name), type.orElse(null));
      List<Synonym> synonyms = new ArrayList<>();
      if (set.containsKey(name)) {
        synonyms.add(new Synonym(name, value, ConfigSource.TOPIC_CONFIG));
      }
      String broker = ServerTopicConfigSynonyms.TOPIC_CONFIG_SYNONYMS.get(name);
      if (broker != null && brokerDefaults.containsKey(broker)) {
        synonyms.add(
            new Synonym(
                broker,
                sensitive ? null : brokerDefaults.get(broker),
                ConfigSource.DEFAULT_CONFIG));
      }
      out.add(
          new Entry(
              name,
              value,
              synonyms.isEmpty() ? ConfigSource.DEFAULT_CONFIG : synonyms.get(0).source(),
              sensitive,
              responseType(type),
              includeSynonyms ? List.copyOf(synonyms) : List.of(),
              includeDocumentation ? effective.documentationOf(name) : null));
    }
    return out;
  }

  private static ConfigType responseType(Optional<ConfigDef.Type> type) {
    if (type.isEmpty()) {
      return ConfigType.UNKNOWN;
    }
    return switch (type.get()) {
      case BOOLEAN -> ConfigType.BOOLEAN;
      case STRING -> ConfigType.STRING;
      case INT -> ConfigType.INT;
      case SHORT -> ConfigType.SHORT;
      case LONG -> ConfigType.LONG;
      case DOUBLE -> ConfigType.DOUBLE;
      case LIST -> ConfigType.LIST;
      case CLASS -> ConfigType.CLASS;
      case PASSWORD -> ConfigType.PASSWORD;
    };
  }
}
