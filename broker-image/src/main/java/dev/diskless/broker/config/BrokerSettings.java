package dev.diskless.broker.config;

import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import dev.diskless.storage.wal.WalConfig;
import dev.diskless.storage.wal.volume.VolumeWalConfig;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a {@link BrokerConfig} from a properties file (what the operator renders into a ConfigMap)
 * with environment overrides: every key {@code a.b.c} can be set as {@code DISKLESS_A_B_C}, which
 * is how secrets and the pod's own name and IP arrive. Unknown keys and bad values are refused with
 * a message naming them.
 */
public final class BrokerSettings {

  /**
   * Every key understood, with its meaning in the Javadoc of {@link BrokerConfig} and the storage
   * records.
   */
  /**
   * Apache Kafka group coordinator properties passed through under their Kafka names; Kafka's
   * defaults apply to the ones not set.
   */
  public static final Set<String> GROUP_COORDINATOR_KEYS =
      Set.of(
          "offsets.topic.num.partitions",
          "offsets.retention.minutes",
          "offsets.commit.timeout.ms",
          "offset.metadata.max.bytes",
          "group.initial.rebalance.delay.ms",
          "group.min.session.timeout.ms",
          "group.max.session.timeout.ms",
          "group.max.size",
          "group.coordinator.rebalance.protocols",
          "group.coordinator.threads",
          "group.coordinator.append.linger.ms",
          "group.consumer.session.timeout.ms",
          "group.consumer.heartbeat.interval.ms",
          "group.consumer.max.size",
          "group.consumer.assignors");

  public static final Set<String> KEYS =
      java.util.stream.Stream.concat(
              GROUP_COORDINATOR_KEYS.stream(),
              Set.of(
                  "instance.id",
                  "listen.host",
                  "listen.port",
                  "advertised.host",
                  "rack",
                  "cluster.id",
                  "lease.ms",
                  "max.frame.bytes",
                  "http.port",
                  "drain.timeout.ms",
                  "object.store.bucket",
                  "object.store.region",
                  "object.store.endpoint",
                  "object.store.path.style",
                  "object.store.access.key.id",
                  "object.store.secret.access.key",
                  "object.store.key.prefix",
                  "metadata.jdbc.url",
                  "metadata.user",
                  "metadata.password",
                  "metadata.pool.size",
                  "wal.type",
                  "wal.max.object.bytes",
                  "wal.max.age.ms",
                  "wal.volume.root",
                  "cache.tail.bytes",
                  "cache.block.bytes")
                  .stream())
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private final Properties values;

  private BrokerSettings(Properties values) {
    this.values = values;
  }

  /** Reads {@code file} (if it exists) and applies {@code env} overrides. */
  public static BrokerSettings load(Optional<Path> file, Map<String, String> env)
      throws IOException {
    Properties p = new Properties();
    if (file.isPresent()) {
      try (Reader r = Files.newBufferedReader(file.get())) {
        p.load(r);
      }
    }
    for (String key : KEYS) {
      String v = env.get("DISKLESS_" + key.toUpperCase(Locale.ROOT).replace('.', '_'));
      if (v != null) {
        p.setProperty(key, v);
      }
    }
    Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
    unknown.removeAll(KEYS);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown broker settings " + unknown + "; known: " + new TreeSet<>(KEYS));
    }
    return new BrokerSettings(p);
  }

  public BrokerConfig toConfig() {
    ObjectStoreConfig objects =
        ObjectStoreConfig.of(
                required("object.store.bucket"), get("object.store.region", "us-east-1"))
            .withKeyPrefix(get("object.store.key.prefix", ""));
    String endpoint = values.getProperty("object.store.endpoint");
    if (endpoint != null) {
      objects = objects.withEndpoint(URI.create(endpoint), bool("object.store.path.style", true));
    }
    String key = values.getProperty("object.store.access.key.id");
    if (key != null) {
      objects = objects.withCredentials(key, required("object.store.secret.access.key"));
    }
    MetadataConfig metadata =
        new MetadataConfig(
            required("metadata.jdbc.url"),
            get("metadata.user", "postgres"),
            get("metadata.password", ""),
            integer("metadata.pool.size", 16));
    WalConfig wal =
        new WalConfig(
            longValue("wal.max.object.bytes", 8L << 20),
            Duration.ofMillis(longValue("wal.max.age.ms", 50)),
            4,
            64L << 20,
            Duration.ofMinutes(2));
    StorageConfig storage =
        StorageConfig.defaults(objects, metadata)
            .withWal(wal)
            .withCaches(
                longValue("cache.tail.bytes", 256L << 20),
                longValue("cache.block.bytes", 256L << 20));
    String walType = get("wal.type", "object");
    switch (walType) {
      case "object" -> {}
      case "volume" ->
          storage = storage.withVolumeWal(VolumeWalConfig.at(Path.of(required("wal.volume.root"))));
      default ->
          throw new IllegalArgumentException("wal.type must be object or volume, got " + walType);
    }
    return new BrokerConfig(
        required("instance.id"),
        get("listen.host", "0.0.0.0"),
        integer("listen.port", 9092),
        required("advertised.host"),
        Optional.ofNullable(values.getProperty("rack")),
        get("cluster.id", "diskless"),
        Duration.ofMillis(longValue("lease.ms", 10_000)),
        integer("max.frame.bytes", 100 << 20),
        storage,
        integer("http.port", 8080),
        groupCoordinatorSettings(),
        Duration.ofMillis(longValue("drain.timeout.ms", 30_000)));
  }

  private Map<String, String> groupCoordinatorSettings() {
    Map<String, String> out = new java.util.HashMap<>();
    for (String key : GROUP_COORDINATOR_KEYS) {
      String v = values.getProperty(key);
      if (v != null) {
        out.put(key, v.trim());
      }
    }
    return out;
  }

  private String required(String key) {
    String v = values.getProperty(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(
          "broker setting "
              + key
              + " is required (or DISKLESS_"
              + key.toUpperCase(Locale.ROOT).replace('.', '_')
              + ")");
    }
    return v.trim();
  }

  private String get(String key, String fallback) {
    return values.getProperty(key, fallback).trim();
  }

  private long longValue(String key, long fallback) {
    String v = values.getProperty(key);
    try {
      return v == null ? fallback : Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("broker setting " + key + " must be a number, got " + v);
    }
  }

  private int integer(String key, int fallback) {
    return Math.toIntExact(longValue(key, fallback));
  }

  private boolean bool(String key, boolean fallback) {
    String v = values.getProperty(key);
    if (v == null) {
      return fallback;
    }
    if (!v.equals("true") && !v.equals("false")) {
      throw new IllegalArgumentException(
          "broker setting " + key + " must be true or false, got " + v);
    }
    return Boolean.parseBoolean(v);
  }
}
