package dev.diskless.operator.reconciler.cluster;

import static dev.diskless.config.BrokerSettingsSchema.*;

import dev.diskless.config.BrokerSettingsValues;
import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterSpec;
import dev.diskless.operator.crd.WalSpec;
import dev.diskless.operator.reconciler.Sha256;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
            .with(HTTP_PORT, spec.listeners.httpPort)
            .with(OBJECT_STORE_BUCKET, spec.objectStore.bucket)
            .with(OBJECT_STORE_REGION, spec.objectStore.region)
            .with(OBJECT_STORE_KEY_PREFIX, ClusterNames.keyPrefix(cluster))
            .with(METADATA_JDBC_URL, spec.metadata.jdbcUrl);
    v = listeners(v, ClusterListeners.of(cluster));
    if (spec.authorization != null) {
      List<String> superUsers = new ArrayList<>();
      superUsers.add("User:" + OperatorCredentialsDependentResource.USER);
      superUsers.addAll(spec.authorization.superUsers);
      v =
          v.with(AUTHORIZER_CLASS_NAME, STANDARD_AUTHORIZER)
              .with(SUPER_USERS, String.join(";", superUsers));
    }
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

  /** Kafka's ACL authorizer, the one the brokers run. */
  static final String STANDARD_AUTHORIZER =
      "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

  /**
   * The listener settings: one plaintext port as before, or Kafka's {@code listeners} with each
   * listener's protocol, SASL mechanism and TLS files (mounted from its Secret); every listener
   * advertises the pod's IP ({@code advertised.host}) and its port. With a SASL listener the
   * brokers store the operator's user at start (its password reaches them from its Secret).
   */
  private static BrokerSettingsValues listeners(BrokerSettingsValues v, ClusterListeners all) {
    if (!all.named()) {
      return v.with(LISTEN_PORT, all.first().port());
    }
    List<String> listeners = new ArrayList<>();
    List<String> protocols = new ArrayList<>();
    for (ClusterListeners.Listener l : all.all()) {
      listeners.add(l.kafkaName() + "://:" + l.port());
      protocols.add(l.kafkaName() + ":" + l.protocol());
      String prefix = LISTENER_PREFIX + l.name() + ".";
      if (l.sasl()) {
        v = v.withRaw(prefix + SASL_ENABLED_MECHANISMS.key(), l.mechanism());
      }
      if (l.tlsSecret().isPresent()) {
        v =
            v.withRaw(prefix + SSL_CERTIFICATE_LOCATION.key(), l.tlsDir() + "/tls.crt")
                .withRaw(prefix + SSL_KEY_LOCATION.key(), l.tlsDir() + "/tls.key");
        // Clients' certificates are checked against the Secret's CA (e.g. cert-manager's) and
        // the operator's clients CA (DisklessKafkaUsers with tls authentication); a subject of
        // just CN=<name> is User:<name>. (The inter-broker listener has no TLS: brokers reach
        // each other by pod IP, which certificates do not name.)
        if (l.clientCertificates()) {
          v =
              v.withRaw(
                      prefix + SSL_CA_LOCATION.key(),
                      l.tlsDir()
                          + "/ca.crt,"
                          + ClusterListeners.CLIENTS_CA_DIR
                          + "/"
                          + ClientsCaDependentResource.CERTIFICATE_KEY)
                  .withRaw(prefix + SSL_CLIENT_AUTH.key(), "required")
                  .withRaw(
                      prefix + SSL_PRINCIPAL_MAPPING_RULES.key(),
                      ClusterListeners.PRINCIPAL_MAPPING_RULES);
        }
      }
    }
    v =
        v.with(LISTENERS, String.join(",", listeners))
            .with(LISTENER_SECURITY_PROTOCOL_MAP, String.join(",", protocols))
            .with(INTER_BROKER_LISTENER_NAME, all.interBroker().toUpperCase(Locale.ROOT));
    if (all.sasl()) {
      v = v.with(SASL_BOOTSTRAP_USER, OperatorCredentialsDependentResource.USER);
    }
    return v;
  }

  /** How long a broker may take to hand its partitions over, from the settings. */
  public static Duration drainTimeout(DisklessKafkaCluster cluster) {
    return Duration.ofMillis(settings(cluster).get(DRAIN_TIMEOUT_MS));
  }

  /** A short digest of the file, put on the pod template so that a change rolls the brokers. */
  public static String hash(String rendered) {
    return Sha256.hex(rendered, 8);
  }
}
