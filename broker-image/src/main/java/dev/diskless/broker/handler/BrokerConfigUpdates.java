package dev.diskless.broker.handler;

import dev.diskless.broker.config.StaticSetting;
import dev.diskless.storage.metadata.BrokerConfigStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * The broker configs the Admin API may set: the replication throttles, which
 * kafka-reassign-partitions.sh sets with {@code --throttle} and clears with {@code --verify}. They
 * are validated as Kafka validates them (a non-negative LONG), kept per BROKER resource ({@code ""}
 * for the cluster-wide default, else a node id) and reported by DescribeConfigs with Kafka's
 * sources and synonyms, but have no effect: a reassignment here moves ownership and copies nothing.
 * Every other broker config comes from the broker settings (the DisklessKafkaCluster resource) and
 * is refused by name.
 */
final class BrokerConfigUpdates {

  /** Kafka's broker-level replication throttles, as ReassignPartitionsCommand names them. */
  static final List<String> THROTTLES =
      List.of(
          "leader.replication.throttled.rate",
          "follower.replication.throttled.rate",
          "replica.alter.log.dirs.io.max.bytes.per.second");

  private static final String UNLIMITED = String.valueOf(Long.MAX_VALUE);
  private static final String DOC =
      "Replication throttle in bytes per second. Accepted and reported for Kafka's tools; it has"
          + " no effect here: partitions move by ownership and no bytes are copied.";

  private final BrokerConfigStore store;
  private final String nodeId;
  private final List<StaticSetting> statics;

  BrokerConfigUpdates(BrokerConfigStore store) {
    this(store, -1, List.of());
  }

  /**
   * As Kafka does for its own broker id, DescribeConfigs of {@code nodeId} also reports {@code
   * statics}: the settings this broker was started with, read-only.
   */
  BrokerConfigUpdates(BrokerConfigStore store, int nodeId, List<StaticSetting> statics) {
    this.store = store;
    this.nodeId = Integer.toString(nodeId);
    this.statics = statics;
  }

  /** One change of IncrementalAlterConfigs. */
  record Change(String name, AlterConfigOp.OpType op, String value) {}

  /** IncrementalAlterConfigs on one BROKER resource. */
  CompletableFuture<ApiError> incremental(
      String resource, List<Change> changes, boolean validateOnly) {
    Optional<ApiError> bad = badResource(resource);
    if (bad.isPresent()) {
      return CompletableFuture.completedFuture(bad.get());
    }
    Map<String, Optional<String>> apply = new LinkedHashMap<>();
    for (Change c : changes) {
      Optional<ApiError> refused = refused(c.name(), c.value(), c.op());
      if (refused.isPresent()) {
        return CompletableFuture.completedFuture(refused.get());
      }
      apply.put(
          c.name(),
          c.op() == AlterConfigOp.OpType.DELETE ? Optional.empty() : Optional.of(c.value().trim()));
    }
    return write(resource, apply, false, validateOnly);
  }

  /** AlterConfigs on one BROKER resource: its dynamic configs become exactly {@code configs}. */
  CompletableFuture<ApiError> replace(
      String resource, Map<String, String> configs, boolean validateOnly) {
    Optional<ApiError> bad = badResource(resource);
    if (bad.isPresent()) {
      return CompletableFuture.completedFuture(bad.get());
    }
    Map<String, Optional<String>> apply = new LinkedHashMap<>();
    for (var c : configs.entrySet()) {
      Optional<ApiError> refused = refused(c.getKey(), c.getValue(), AlterConfigOp.OpType.SET);
      if (refused.isPresent()) {
        return CompletableFuture.completedFuture(refused.get());
      }
      apply.put(c.getKey(), Optional.of(c.getValue().trim()));
    }
    return write(resource, apply, true, validateOnly);
  }

  private CompletableFuture<ApiError> write(
      String resource, Map<String, Optional<String>> apply, boolean replace, boolean validateOnly) {
    if (validateOnly) {
      return CompletableFuture.completedFuture(ApiError.NONE);
    }
    return store.apply(resource, apply, replace).thenApply(v -> ApiError.NONE);
  }

  /**
   * DescribeConfigs of one BROKER resource: each throttle with its value and where it comes from
   * (set on this broker, the cluster default, or Kafka's default: unlimited), in Kafka's form.
   */
  CompletableFuture<Optional<List<DescribeConfigsResourceResult>>> describe(
      String resource, List<String> keys, boolean synonyms, boolean documentation) {
    if (badResource(resource).isPresent()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    CompletableFuture<Map<String, String>> own =
        resource.isEmpty() ? CompletableFuture.completedFuture(Map.of()) : store.of(resource);
    return own.thenCombine(
        store.of(""),
        (mine, defaults) -> {
          List<DescribeConfigsResourceResult> out = new ArrayList<>();
          for (String name : THROTTLES) {
            if (keys != null && !keys.contains(name)) {
              continue;
            }
            List<DescribeConfigsSynonym> chain = new ArrayList<>();
            if (mine.containsKey(name)) {
              chain.add(synonym(name, mine.get(name), ConfigSource.DYNAMIC_BROKER_CONFIG));
            }
            if (defaults.containsKey(name)) {
              chain.add(
                  synonym(name, defaults.get(name), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));
            }
            chain.add(synonym(name, UNLIMITED, ConfigSource.DEFAULT_CONFIG));
            DescribeConfigsSynonym effective = chain.get(0);
            out.add(
                new DescribeConfigsResourceResult()
                    .setName(name)
                    .setValue(effective.value())
                    .setReadOnly(false)
                    .setConfigSource(effective.source())
                    .setIsSensitive(false)
                    .setConfigType(ConfigType.LONG.id())
                    .setDocumentation(documentation ? DOC : null)
                    .setSynonyms(synonyms ? chain : List.of()));
          }
          if (resource.equals(nodeId)) {
            for (StaticSetting s : statics) {
              if (keys == null || keys.contains(s.name())) {
                out.add(describe(s, synonyms, documentation));
              }
            }
          }
          return Optional.of(out);
        });
  }

  /**
   * A setting from the settings file or environment: STATIC_BROKER_CONFIG when set, else
   * DEFAULT_CONFIG; read-only (a changed DisklessKafkaCluster rolls the brokers); secrets hidden.
   */
  private static DescribeConfigsResourceResult describe(
      StaticSetting s, boolean synonyms, boolean documentation) {
    String value = s.sensitive() ? null : s.value().orElse(null);
    ConfigSource source =
        s.explicit() ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    List<DescribeConfigsSynonym> chain = new ArrayList<>();
    if (synonyms && s.value().isPresent()) {
      chain.add(synonym(s.name(), value, source));
    }
    return new DescribeConfigsResourceResult()
        .setName(s.name())
        .setValue(value)
        .setReadOnly(true)
        .setConfigSource(source.id())
        .setIsSensitive(s.sensitive())
        .setConfigType(ConfigType.valueOf(s.type()).id())
        .setDocumentation(documentation ? s.documentation() : null)
        .setSynonyms(chain);
  }

  private static DescribeConfigsSynonym synonym(String name, String value, ConfigSource source) {
    return new DescribeConfigsSynonym().setName(name).setValue(value).setSource(source.id());
  }

  /** Kafka's answer to a BROKER resource name that is neither empty nor a broker id. */
  static Optional<ApiError> badResource(String resource) {
    if (resource.isEmpty()) {
      return Optional.empty();
    }
    try {
      if (Integer.parseInt(resource) >= 0) {
        return Optional.empty();
      }
    } catch (NumberFormatException e) {
      // Falls through.
    }
    return Optional.of(
        new ApiError(
            Errors.INVALID_REQUEST,
            "Broker resource name must be empty (the cluster-wide default) or a broker id, got '"
                + resource
                + "'"));
  }

  private static Optional<ApiError> refused(String name, String value, AlterConfigOp.OpType op) {
    if (!THROTTLES.contains(name)) {
      return Optional.of(
          new ApiError(
              Errors.INVALID_REQUEST,
              "Cannot update these configs dynamically: ["
                  + name
                  + "]. Broker settings come from the DisklessKafkaCluster resource; only "
                  + THROTTLES
                  + " can be set here (and have no effect: nothing is copied)."));
    }
    if (op == AlterConfigOp.OpType.APPEND || op == AlterConfigOp.OpType.SUBTRACT) {
      return Optional.of(
          new ApiError(
              Errors.INVALID_CONFIG,
              "Config value "
                  + (op == AlterConfigOp.OpType.APPEND ? "append" : "subtract")
                  + " is not allowed for config key: "
                  + name));
    }
    if (op == AlterConfigOp.OpType.DELETE) {
      return Optional.empty();
    }
    try {
      if (Long.parseLong(value.trim()) >= 0) {
        return Optional.empty();
      }
    } catch (NumberFormatException e) {
      return Optional.of(
          new ApiError(
              Errors.INVALID_CONFIG,
              "Invalid value "
                  + value
                  + " for configuration "
                  + name
                  + ": Not a number of type LONG"));
    }
    return Optional.of(
        new ApiError(
            Errors.INVALID_CONFIG,
            "Invalid value "
                + value
                + " for configuration "
                + name
                + ": Value must be at least 0"));
  }
}
