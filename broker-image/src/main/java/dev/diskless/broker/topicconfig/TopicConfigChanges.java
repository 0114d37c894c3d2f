package dev.diskless.broker.topicconfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.storage.internals.log.LogConfig;

/**
 * Applies IncrementalAlterConfigs operations to a topic's configs exactly as Kafka 4.4's KRaft
 * controller does ({@code ConfigurationControlManager.incrementalAlterConfigResource}): SET
 * replaces, DELETE removes (a name that is not set is a no-op, as in Kafka), APPEND and SUBTRACT
 * work on LIST configs only, starting from the current value or else Kafka's default, APPEND
 * skipping values already present. The result still has to pass {@link TopicConfigValidator}.
 */
public final class TopicConfigChanges {

  /** One operation of a request, in request order. */
  public record Operation(String name, OpType type, String value) {}

  /**
   * The configs after {@code operations}; throws {@link InvalidConfigurationException} for APPEND
   * or SUBTRACT on a config that is not a list (or not a topic config at all).
   */
  public Map<String, String> apply(Map<String, String> current, List<Operation> operations) {
    Map<String, String> next = new HashMap<>(current);
    for (Operation op : operations) {
      switch (op.type()) {
        case SET -> next.put(op.name(), op.value());
        case DELETE -> next.remove(op.name());
        case APPEND, SUBTRACT -> {
          if (LogConfig.configType(op.name()).orElse(null) != ConfigDef.Type.LIST) {
            throw new InvalidConfigurationException(
                "Can't " + op.type() + " to key " + op.name() + " because its type is not LIST.");
          }
          List<String> parts = parts(next.get(op.name()), op.name());
          for (String value : op.value().split(",")) {
            if (op.type() == OpType.SUBTRACT) {
              parts.remove(value);
            } else if (!parts.contains(value)) {
              parts.add(value);
            }
          }
          next.put(op.name(), String.join(",", parts));
        }
      }
    }
    return next;
  }

  private static List<String> parts(String value, String name) {
    if (value == null) {
      ConfigDef.ConfigKey key = LogConfig.configKeys().get(name);
      value = key.hasDefault() ? ConfigDef.convertToString(key.defaultValue, key.type) : null;
    }
    List<String> parts = new ArrayList<>();
    if (value != null) {
      for (String part : value.split(",")) {
        if (!part.isEmpty()) {
          parts.add(part);
        }
      }
    }
    return parts;
  }
}
