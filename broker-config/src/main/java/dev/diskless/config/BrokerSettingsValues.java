package dev.diskless.config;

import java.io.IOException;
import java.io.StringReader;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Values of broker settings, typed by their {@link BrokerSetting}: read from a settings file plus
 * environment overrides (the broker), or built up and rendered as a file (the operator). Unknown
 * keys and malformed values are refused with a message naming the key.
 */
public final class BrokerSettingsValues {

  private final Map<String, Object> values;

  private BrokerSettingsValues(Map<String, Object> values) {
    this.values = Map.copyOf(values);
  }

  public static BrokerSettingsValues empty() {
    return new BrokerSettingsValues(Map.of());
  }

  /** Parses a settings file's text, then applies {@code DISKLESS_*} overrides from {@code env}. */
  public static BrokerSettingsValues parse(String fileText, Map<String, String> env) {
    Properties p = new Properties();
    try {
      p.load(new StringReader(fileText));
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable broker settings: " + e.getMessage(), e);
    }
    Map<String, BrokerSetting<?>> byKey = new LinkedHashMap<>();
    BrokerSettingsSchema.ALL.forEach(s -> byKey.put(s.key(), s));
    TreeSet<String> unknown = new TreeSet<>(p.stringPropertyNames());
    unknown.removeAll(byKey.keySet());
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown broker settings " + unknown + "; known: " + new TreeSet<>(byKey.keySet()));
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (BrokerSetting<?> s : BrokerSettingsSchema.ALL) {
      String raw = env.getOrDefault(s.envVar(), p.getProperty(s.key()));
      // An optional setting given empty is not set: the operator fills some variables from pod
      // labels (the rack from the node's zone), which the downward API renders "" when absent.
      if (raw != null && !(s.optional() && raw.isBlank())) {
        values.put(s.key(), s.parse(raw));
      }
    }
    return new BrokerSettingsValues(values);
  }

  /** The same values with {@code setting} set to {@code value}. */
  public <T> BrokerSettingsValues with(BrokerSetting<T> setting, T value) {
    Map<String, Object> next = new LinkedHashMap<>(values);
    next.put(setting.key(), setting.type().cast(value));
    return new BrokerSettingsValues(next);
  }

  /** The same values with a setting given by key (e.g. an override from a spec), parsed. */
  public BrokerSettingsValues withRaw(String key, String raw) {
    BrokerSetting<?> setting =
        BrokerSettingsSchema.ALL.stream()
            .filter(s -> s.key().equals(key))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException("unknown broker setting " + key));
    Map<String, Object> next = new LinkedHashMap<>(values);
    next.put(key, setting.parse(raw));
    return new BrokerSettingsValues(next);
  }

  /** The value, or the default; fails naming the key and its variable if it is required. */
  public <T> T get(BrokerSetting<T> setting) {
    return find(setting).or(setting::defaultValue).orElseThrow(() -> missing(setting));
  }

  /** The value of a setting that other settings make necessary; fails naming it if absent. */
  public <T> T require(BrokerSetting<T> setting) {
    return find(setting).orElseThrow(() -> missing(setting));
  }

  private static IllegalArgumentException missing(BrokerSetting<?> setting) {
    return new IllegalArgumentException(
        "broker setting " + setting.key() + " is required (or " + setting.envVar() + ")");
  }

  /** The value if it was set, ignoring defaults. */
  public <T> Optional<T> find(BrokerSetting<T> setting) {
    Object v = values.get(setting.key());
    return v == null ? Optional.empty() : Optional.of(setting.type().cast(v));
  }

  /** The settings file: one {@code key=value} line per value set, sorted by key. */
  public String render() {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, Object> e : new TreeMap<>(values).entrySet()) {
      out.append(e.getKey()).append('=').append(escape(String.valueOf(e.getValue()))).append('\n');
    }
    return out.toString();
  }

  private static String escape(String v) {
    StringBuilder out = new StringBuilder();
    for (char c : v.toCharArray()) {
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
