package dev.diskless.config;

import java.util.Locale;
import java.util.Optional;

/**
 * One broker setting: its key in the settings file, the environment variable that overrides it, its
 * type and its default (none: required, or optional when {@code optional} is set).
 *
 * @param <T> String, Integer, Long or Boolean
 */
public record BrokerSetting<T>(
    String key, Class<T> type, Optional<T> defaultValue, boolean optional, String description) {

  /** {@code a.b.c} is overridden by {@code DISKLESS_A_B_C}. */
  public String envVar() {
    return "DISKLESS_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  public boolean required() {
    return defaultValue.isEmpty() && !optional;
  }

  /** The value written in a settings file or an environment variable, typed. */
  T parse(String raw) {
    String v = raw.trim();
    try {
      Object value =
          switch (type.getSimpleName()) {
            case "String" -> v;
            case "Integer" -> Integer.valueOf(v);
            case "Long" -> Long.valueOf(v);
            case "Boolean" -> {
              if (!v.equals("true") && !v.equals("false")) {
                throw new IllegalArgumentException(
                    "broker setting " + key + " must be true or false, got " + raw);
              }
              yield Boolean.valueOf(v);
            }
            default -> throw new IllegalStateException("unsupported type " + type);
          };
      return type.cast(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("broker setting " + key + " must be a number, got " + raw);
    }
  }

  static BrokerSetting<String> required(String key, String description) {
    return new BrokerSetting<>(key, String.class, Optional.empty(), false, description);
  }

  static BrokerSetting<String> optional(String key, String description) {
    return new BrokerSetting<>(key, String.class, Optional.empty(), true, description);
  }

  static <T> BrokerSetting<T> of(String key, Class<T> type, T defaultValue, String description) {
    return new BrokerSetting<>(key, type, Optional.of(defaultValue), false, description);
  }
}
