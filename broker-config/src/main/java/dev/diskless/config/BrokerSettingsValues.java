package dev.diskless.config;

import java.io.IOException;
import java.io.StringReader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
    Map<String, Object> values = new LinkedHashMap<>();
    for (String key : List.copyOf(unknown)) {
      Optional<BrokerSetting<?>> perListener = perListener(key);
      if (perListener.isPresent()) {
        unknown.remove(key);
        values.put(normalised(key, perListener.get()), perListener.get().parse(p.getProperty(key)));
      }
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown broker settings "
              + unknown
              + "; known: "
              + new TreeSet<>(byKey.keySet())
              + " and "
              + BrokerSettingsSchema.LISTENER_PREFIX
              + "<listener>.<one of "
              + BrokerSettingsSchema.PER_LISTENER.stream().map(BrokerSetting::key).toList()
              + ">");
    }
    env.forEach(
        (name, raw) -> {
          String key = perListenerKey(name);
          if (key != null && !raw.isBlank()) {
            values.put(key, perListener(key).orElseThrow().parse(raw));
          }
        });
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

  /**
   * The setting a per-listener key ({@code listener.name.<name>.<key>}) overrides, if it is one;
   * listener names are letters, digits and underscores.
   */
  private static Optional<BrokerSetting<?>> perListener(String key) {
    if (!key.startsWith(BrokerSettingsSchema.LISTENER_PREFIX)) {
      return Optional.empty();
    }
    String rest = key.substring(BrokerSettingsSchema.LISTENER_PREFIX.length());
    for (BrokerSetting<?> s : BrokerSettingsSchema.PER_LISTENER) {
      if (rest.endsWith("." + s.key())) {
        String name = rest.substring(0, rest.length() - s.key().length() - 1);
        if (name.matches("[A-Za-z0-9_]+")) {
          return Optional.of(s);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * A per-listener key with its listener name in lower case, as Kafka writes it and as {@link
   * #findForListener} looks it up: {@code listener.name.EXTERNAL.x} is {@code
   * listener.name.external.x}.
   */
  private static String normalised(String key, BrokerSetting<?> setting) {
    String name =
        key.substring(
            BrokerSettingsSchema.LISTENER_PREFIX.length(),
            key.length() - setting.key().length() - 1);
    return BrokerSettingsSchema.LISTENER_PREFIX
        + name.toLowerCase(Locale.ROOT)
        + "."
        + setting.key();
  }

  /**
   * The key of a per-listener environment override ({@code DISKLESS_LISTENER_NAME_<NAME>_<KEY>}),
   * or null when {@code envVar} is none.
   */
  private static String perListenerKey(String envVar) {
    String prefix = "DISKLESS_LISTENER_NAME_";
    if (!envVar.startsWith(prefix)) {
      return null;
    }
    String rest = envVar.substring(prefix.length());
    for (BrokerSetting<?> s : BrokerSettingsSchema.PER_LISTENER) {
      String suffix = "_" + s.envVar().substring("DISKLESS_".length());
      if (rest.endsWith(suffix) && rest.length() > suffix.length()) {
        String name = rest.substring(0, rest.length() - suffix.length());
        return BrokerSettingsSchema.LISTENER_PREFIX + name.toLowerCase(Locale.ROOT) + "." + s.key();
      }
    }
    return null;
  }

  /**
   * The value {@code listener} sets for itself ({@code listener.name.<name>.<key>}), else the
   * broker-wide value or default.
   */
  public <T> Optional<T> findForListener(String listener, BrokerSetting<T> setting) {
    Object v =
        values.get(
            BrokerSettingsSchema.LISTENER_PREFIX
                + listener.toLowerCase(Locale.ROOT)
                + "."
                + setting.key());
    return v != null ? Optional.of(setting.type().cast(v)) : find(setting);
  }

  /** As {@link #findForListener}, falling back to the default. */
  public <T> T getForListener(String listener, BrokerSetting<T> setting) {
    return findForListener(listener, setting)
        .or(setting::defaultValue)
        .orElseThrow(() -> missing(setting));
  }

  /** The per-listener values set ({@code listener.name.<name>.<key>}), by key. */
  public Map<String, String> perListener() {
    Map<String, String> out = new TreeMap<>();
    values.forEach(
        (k, v) -> {
          if (k.startsWith(BrokerSettingsSchema.LISTENER_PREFIX)) {
            out.put(k, String.valueOf(v));
          }
        });
    return out;
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
            .or(() -> perListener(key))
            .orElseThrow(() -> new IllegalArgumentException("unknown broker setting " + key));
    Map<String, Object> next = new LinkedHashMap<>(values);
    next.put(
        key.startsWith(BrokerSettingsSchema.LISTENER_PREFIX) ? normalised(key, setting) : key,
        setting.parse(raw));
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
