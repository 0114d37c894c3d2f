package dev.diskless.broker.config;

import static dev.diskless.config.BrokerSettingsSchema.*;

import dev.diskless.broker.security.AuthorizationConfig;
import dev.diskless.config.BrokerSetting;
import dev.diskless.config.BrokerSettingsValues;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.metadata.PartitionLimits;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import dev.diskless.storage.wal.WalConfig;
import dev.diskless.storage.wal.volume.VolumeWalConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a {@link BrokerConfig} from a settings file (what the operator renders into a ConfigMap)
 * with environment overrides: every key {@code a.b.c} can be set as {@code DISKLESS_A_B_C}, which
 * is how secrets and the pod's own name and IP arrive. The keys, types and defaults are {@link
 * dev.diskless.config.BrokerSettingsSchema}, shared with the operator; unknown keys and bad values
 * are refused with a message naming them.
 */
public final class BrokerSettings {

  private final BrokerSettingsValues values;

  private BrokerSettings(BrokerSettingsValues values) {
    this.values = values;
  }

  /** Reads {@code file} (if it exists) and applies {@code env} overrides. */
  public static BrokerSettings load(Optional<Path> file, Map<String, String> env)
      throws IOException {
    String text = file.isPresent() ? Files.readString(file.get()) : "";
    return new BrokerSettings(BrokerSettingsValues.parse(text, env));
  }

  public BrokerConfig toConfig() {
    ObjectStoreConfig objects =
        ObjectStoreConfig.of(values.get(OBJECT_STORE_BUCKET), values.get(OBJECT_STORE_REGION))
            .withKeyPrefix(values.get(OBJECT_STORE_KEY_PREFIX));
    Optional<String> endpoint = values.find(OBJECT_STORE_ENDPOINT);
    if (endpoint.isPresent()) {
      objects =
          objects.withEndpoint(URI.create(endpoint.get()), values.get(OBJECT_STORE_PATH_STYLE));
    }
    Optional<String> key = values.find(OBJECT_STORE_ACCESS_KEY_ID);
    if (key.isPresent()) {
      objects = objects.withCredentials(key.get(), values.require(OBJECT_STORE_SECRET_ACCESS_KEY));
    }
    MetadataConfig metadata =
        new MetadataConfig(
            values.get(METADATA_JDBC_URL),
            values.get(METADATA_USER),
            values.get(METADATA_PASSWORD),
            values.get(METADATA_POOL_SIZE));
    WalConfig wal =
        new WalConfig(
            values.get(WAL_MAX_OBJECT_BYTES),
            Duration.ofMillis(values.get(WAL_MAX_AGE_MS)),
            4,
            64L << 20,
            Duration.ofMinutes(2),
            values.get(WAL_GROUP_COMMIT_MAX_BYTES_PER_SECOND),
            values.get(WAL_GROUP_COMMIT_MIN_BYTES),
            values.get(WAL_MAX_PUTS_PER_SECOND));
    StorageConfig storage =
        StorageConfig.defaults(objects, metadata)
            .withWal(wal)
            .withCaches(values.get(CACHE_TAIL_BYTES), values.get(CACHE_BLOCK_BYTES));
    storage =
        storage.withCompaction(
            storage
                .compaction()
                .withInterval(Duration.ofMillis(values.get(COMPACTION_INTERVAL_MS)))
                .withKeyMapBytes(values.get(COMPACTION_KEY_MAP_BYTES)));
    String walType = values.get(WAL_TYPE);
    switch (walType) {
      case "object" -> {}
      case "volume" ->
          storage =
              storage.withVolumeWal(VolumeWalConfig.at(Path.of(values.require(WAL_VOLUME_ROOT))));
      default ->
          throw new IllegalArgumentException("wal.type must be object or volume, got " + walType);
    }
    Map<String, String> groupCoordinator = new HashMap<>();
    for (BrokerSetting<String> s : GROUP_COORDINATOR) {
      values.find(s).ifPresent(v -> groupCoordinator.put(s.key(), v));
    }
    for (BrokerSetting<String> s : TRANSACTION_COORDINATOR) {
      values.find(s).ifPresent(v -> groupCoordinator.put(s.key(), v));
    }
    int maxFrameBytes = values.get(MAX_FRAME_BYTES);
    long queued = values.get(QUEUED_MAX_REQUEST_BYTES);
    if (queued < maxFrameBytes) {
      // As Kafka requires of queued.max.request.bytes: else the largest request could never be
      // read.
      throw new IllegalArgumentException(
          QUEUED_MAX_REQUEST_BYTES.key()
              + " must be at least "
              + MAX_FRAME_BYTES.key()
              + " ("
              + maxFrameBytes
              + "), got "
              + queued);
    }
    ListenerSettings listeners =
        ListenerSettings.read(
            values,
            AuthorizationConfig.parse(
                values.get(AUTHORIZER_CLASS_NAME),
                values.get(SUPER_USERS),
                values.get(ALLOW_EVERYONE_IF_NO_ACL_FOUND)),
            Duration.ofMillis(values.get(CONNECTIONS_MAX_REAUTH_MS)));
    return new BrokerConfig(
        values.get(INSTANCE_ID),
        listeners.listeners(),
        listeners.interBroker(),
        values.find(RACK),
        values.get(CLUSTER_ID),
        Duration.ofMillis(values.get(LEASE_MS)),
        maxFrameBytes,
        storage,
        values.get(HTTP_PORT),
        groupCoordinator,
        Duration.ofMillis(values.get(DRAIN_TIMEOUT_MS)),
        Duration.ofMillis(values.get(LEASE_REJOIN_TIMEOUT_MS)),
        new PartitionLimits(
            values.get(MAX_PARTITIONS_PER_TOPIC), values.get(MAX_PARTITIONS_PER_CLUSTER)),
        queued,
        replicaTailPoll(),
        Duration.ofMillis(values.get(CONSUMER_LAG_INTERVAL_MS)),
        staticSettings());
  }

  /** Every setting with its value and whether it was set, for DescribeConfigs. */
  private List<StaticSetting> staticSettings() {
    List<StaticSetting> out = new ArrayList<>();
    for (BrokerSetting<?> s : ALL) {
      Optional<String> set =
          values.find(s).map(v -> StaticSetting.shown(s.key(), String.valueOf(v)));
      out.add(
          new StaticSetting(
              s.key(),
              set.or(() -> s.defaultValue().map(String::valueOf)),
              set.isPresent(),
              StaticSetting.sensitive(s.key()),
              StaticSetting.sensitive(s.key())
                  ? "PASSWORD"
                  : switch (s.type().getSimpleName()) {
                    case "Integer" -> "INT";
                    case "Long" -> "LONG";
                    case "Boolean" -> "BOOLEAN";
                    default -> "STRING";
                  },
              s.description()));
    }
    values
        .perListener()
        .forEach(
            (key, value) ->
                out.add(
                    new StaticSetting(
                        key,
                        Optional.of(value),
                        true,
                        StaticSetting.sensitive(key),
                        "STRING",
                        "A listener's own value of a broker setting.")));
    return out;
  }

  private Duration replicaTailPoll() {
    long ms = values.get(REPLICA_TAIL_POLL_MS);
    if (ms < 1) {
      throw new IllegalArgumentException(
          REPLICA_TAIL_POLL_MS.key() + " must be at least 1, got " + ms);
    }
    return Duration.ofMillis(ms);
  }
}
