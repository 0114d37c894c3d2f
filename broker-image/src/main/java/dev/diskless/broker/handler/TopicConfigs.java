package dev.diskless.broker.handler;

import dev.diskless.storage.log.AppendOptions;
import java.util.Map;
import java.util.Set;

/** The topic configs this broker implements, their validation, and what they mean for appends. */
final class TopicConfigs {

  /** Every supported config with Kafka's default. */
  static final Map<String, String> DEFAULTS =
      Map.of(
          "retention.ms", "604800000",
          "retention.bytes", "-1",
          "max.message.bytes", "1048588",
          "message.timestamp.type", "CreateTime",
          "cleanup.policy", "delete");

  static final Set<String> SUPPORTED = DEFAULTS.keySet();

  private TopicConfigs() {}

  /** Null when valid, else a message naming the config. */
  static String validate(String key, String value) {
    if (!SUPPORTED.contains(key)) {
      return "config " + key + " is not supported; supported: " + SUPPORTED;
    }
    switch (key) {
      case "retention.ms", "retention.bytes" -> {
        return isLong(value) && Long.parseLong(value) >= -1
            ? null
            : key + " must be a number >= -1, got " + value;
      }
      case "max.message.bytes" -> {
        return isLong(value)
                && Long.parseLong(value) > 0
                && Long.parseLong(value) <= Integer.MAX_VALUE
            ? null
            : key + " must be a positive 32-bit number, got " + value;
      }
      case "message.timestamp.type" -> {
        return value.equals("CreateTime") || value.equals("LogAppendTime")
            ? null
            : key + " must be CreateTime or LogAppendTime, got " + value;
      }
      case "cleanup.policy" -> {
        return value.equals("delete")
            ? null
            : "cleanup.policy="
                + value
                + " is not supported yet: compacted topics are not implemented; use delete";
      }
      default -> {
        return null;
      }
    }
  }

  static AppendOptions appendOptions(Map<String, String> configs) {
    int max = Integer.parseInt(configs.getOrDefault("max.message.bytes", "1048588"));
    boolean logAppendTime = "LogAppendTime".equals(configs.get("message.timestamp.type"));
    return new AppendOptions(max, logAppendTime);
  }

  private static boolean isLong(String v) {
    try {
      Long.parseLong(v);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
