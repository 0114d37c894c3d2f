package dev.diskless.operator.reconciler.cluster;

import static dev.diskless.config.BrokerSettingsSchema.*;

import dev.diskless.config.BrokerSettingsValues;
import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterSpec;
import dev.diskless.operator.crd.WalSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The brokers' settings file, derived from a cluster's spec with the broker's own schema. Identity
 * (pod name and IP) and secrets are not in it: they reach each pod as environment variables.
 */
public final class BrokerSettingsRenderer {

  /** Where the shared WAL volume is mounted in each broker pod. */
  public static final String WAL_MOUNT = "/var/lib/diskless/wal";

  private BrokerSettingsRenderer() {}

  public static BrokerSettingsValues settings(DisklessKafkaCluster cluster) {
    DisklessKafkaClusterSpec spec = cluster.getSpec();
    BrokerSettingsValues v =
        BrokerSettingsValues.empty()
            // Stable for the life of the resource and distinct between clusters, as clients expect.
            .with(CLUSTER_ID, cluster.getMetadata().getUid())
            .with(LISTEN_PORT, spec.listeners.kafkaPort)
            .with(HTTP_PORT, spec.listeners.httpPort)
            .with(OBJECT_STORE_BUCKET, spec.objectStore.bucket)
            .with(OBJECT_STORE_REGION, spec.objectStore.region)
            .with(OBJECT_STORE_KEY_PREFIX, ClusterNames.keyPrefix(cluster))
            .with(METADATA_JDBC_URL, spec.metadata.jdbcUrl);
    if (spec.objectStore.endpoint != null) {
      v =
          v.with(OBJECT_STORE_ENDPOINT, spec.objectStore.endpoint)
              .with(OBJECT_STORE_PATH_STYLE, spec.objectStore.pathStyle);
    }
    if (spec.wal.type == WalSpec.Type.VOLUME) {
      v = v.with(WAL_TYPE, "volume").with(WAL_VOLUME_ROOT, WAL_MOUNT);
    }
    for (var e : spec.brokers.config.entrySet()) {
      v = v.withRaw(e.getKey(), e.getValue());
    }
    return v;
  }

  /** How long a broker may take to hand its partitions over, from the settings. */
  public static Duration drainTimeout(DisklessKafkaCluster cluster) {
    return Duration.ofMillis(settings(cluster).get(DRAIN_TIMEOUT_MS));
  }

  /** A short digest of the file, put on the pod template so that a change rolls the brokers. */
  public static String hash(String rendered) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(rendered.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
