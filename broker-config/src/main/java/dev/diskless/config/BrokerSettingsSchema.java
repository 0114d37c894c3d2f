package dev.diskless.config;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Every setting a broker reads, with its default. The one definition of the broker's configuration
 * contract: the broker parses files and environment with it, the operator renders ConfigMaps and
 * environment variables with it, and its CRD accepts overrides of exactly {@link #OVERRIDABLE}.
 */
public final class BrokerSettingsSchema {

  private BrokerSettingsSchema() {}

  public static final BrokerSetting<String> INSTANCE_ID =
      BrokerSetting.required("instance.id", "Unique per process (the pod name).");
  public static final BrokerSetting<String> LISTEN_HOST =
      BrokerSetting.of("listen.host", String.class, "0.0.0.0", "Address the listeners bind.");
  public static final BrokerSetting<Integer> LISTEN_PORT =
      BrokerSetting.of("listen.port", Integer.class, 9092, "Kafka listener port.");
  public static final BrokerSetting<String> ADVERTISED_HOST =
      BrokerSetting.required("advertised.host", "Host clients are told to connect to (pod IP).");
  public static final BrokerSetting<String> RACK =
      BrokerSetting.optional("rack", "Rack (zone) of the broker.");
  public static final BrokerSetting<String> LISTENER_SECURITY_PROTOCOL =
      BrokerSetting.of(
          "listener.security.protocol",
          String.class,
          "PLAINTEXT",
          "Security protocol of the Kafka listener: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (SASL"
              + " clients authenticate with a mechanism of sasl.enabled.mechanisms before any other"
              + " request; SSL and SASL_SSL need ssl.certificate.location and ssl.key.location).");
  public static final BrokerSetting<Long> CONSUMER_LAG_INTERVAL_MS =
      BrokerSetting.of(
          "consumer.lag.interval.ms",
          Long.class,
          30_000L,
          "How often each broker measures the lag of the consumer groups it coordinates"
              + " (diskless.consumer.lag): one PostgreSQL query per 500 committed partitions.");
  public static final BrokerSetting<String> LISTENERS =
      BrokerSetting.optional(
          "listeners",
          "Kafka's listeners: named listeners NAME://host:port, comma-separated (e.g."
              + " INTERNAL://0.0.0.0:9092,EXTERNAL://0.0.0.0:9094); each has its own security"
              + " protocol (listener.security.protocol.map), advertised address"
              + " (advertised.listeners) and per-listener settings (listener.name.<name>.<setting>)."
              + " Unset: one listener on listen.host:listen.port named after"
              + " listener.security.protocol.");
  public static final BrokerSetting<String> ADVERTISED_LISTENERS =
      BrokerSetting.optional(
          "advertised.listeners",
          "Kafka's advertised.listeners: NAME://host:port per listener, what clients of that"
              + " listener are told; a listener not named here advertises advertised.host and its"
              + " bound port.");
  public static final BrokerSetting<String> LISTENER_SECURITY_PROTOCOL_MAP =
      BrokerSetting.of(
          "listener.security.protocol.map",
          String.class,
          "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
          "Kafka's listener.security.protocol.map: NAME:PROTOCOL per listener, comma-separated.");
  public static final BrokerSetting<String> INTER_BROKER_LISTENER_NAME =
      BrokerSetting.optional(
          "inter.broker.listener.name",
          "Kafka's inter.broker.listener.name: the listener brokers reach each other on"
              + " (transaction markers); unset: the first of listeners. On a SASL listener brokers"
              + " log in as sasl.bootstrap.user.");
  public static final BrokerSetting<String> SASL_ENABLED_MECHANISMS =
      BrokerSetting.of(
          "sasl.enabled.mechanisms",
          String.class,
          "SCRAM-SHA-512,SCRAM-SHA-256",
          "SASL mechanisms offered on a SASL listener, comma-separated: SCRAM-SHA-512, SCRAM-SHA-256"
              + " and PLAIN (checked against the user's stored SCRAM credential).");
  public static final BrokerSetting<String> SASL_BOOTSTRAP_USER =
      BrokerSetting.optional(
          "sasl.bootstrap.user",
          "A user whose SCRAM credentials (both mechanisms) the broker stores at start from"
              + " sasl.bootstrap.password, so that a secured cluster has a first user to manage the"
              + " others with.");
  public static final BrokerSetting<String> SASL_BOOTSTRAP_PASSWORD =
      BrokerSetting.optional(
          "sasl.bootstrap.password", "The password of sasl.bootstrap.user (from a Secret).");
  public static final BrokerSetting<String> SSL_CERTIFICATE_LOCATION =
      BrokerSetting.optional(
          "ssl.certificate.location",
          "PEM certificate chain of the TLS listener (a TLS Secret's tls.crt); read again when it"
              + " changes.");
  public static final BrokerSetting<String> SSL_KEY_LOCATION =
      BrokerSetting.optional(
          "ssl.key.location",
          "PEM private key of the TLS listener (tls.key: PKCS#8, PKCS#1 or SEC1, unencrypted).");
  public static final BrokerSetting<String> SSL_CA_LOCATION =
      BrokerSetting.optional(
          "ssl.ca.location",
          "PEM certificates that client certificates are checked against (ca.crt); several files"
              + " may be given, comma-separated, all trusted (e.g. a listener Secret's ca.crt and the"
              + " operator's clients CA); brokers also trust them when they connect to each other's"
              + " TLS inter-broker listener.");
  public static final BrokerSetting<String> SSL_CLIENT_AUTH =
      BrokerSetting.of(
          "ssl.client.auth",
          String.class,
          "none",
          "Kafka's ssl.client.auth: none, requested or required (mTLS).");
  public static final BrokerSetting<String> SSL_PRINCIPAL_MAPPING_RULES =
      BrokerSetting.of(
          "ssl.principal.mapping.rules",
          String.class,
          "DEFAULT",
          "Kafka's ssl.principal.mapping.rules: how a client certificate's distinguished name becomes"
              + " the user name.");
  public static final BrokerSetting<Long> CONNECTIONS_MAX_REAUTH_MS =
      BrokerSetting.of(
          "connections.max.reauth.ms",
          Long.class,
          0L,
          "Kafka's connections.max.reauth.ms (KIP-368): how long a SASL session lasts; clients"
              + " re-authenticate on their connection before it ends, others are disconnected then."
              + " 0: sessions never end.");
  public static final BrokerSetting<String> AUTHORIZER_CLASS_NAME =
      BrokerSetting.of(
          "authorizer.class.name",
          String.class,
          "",
          "Kafka's authorizer.class.name: empty (every client may do everything) or"
              + " org.apache.kafka.metadata.authorizer.StandardAuthorizer (requests checked against"
              + " the ACLs that kafka-acls.sh manages).");
  public static final BrokerSetting<String> SUPER_USERS =
      BrokerSetting.of(
          "super.users",
          String.class,
          "",
          "Principals allowed everything whatever the ACLs say, semicolon-separated (User:admin).");
  public static final BrokerSetting<Boolean> ALLOW_EVERYONE_IF_NO_ACL_FOUND =
      BrokerSetting.of(
          "allow.everyone.if.no.acl.found",
          Boolean.class,
          false,
          "Whether a resource that no ACL names is open to everyone (Kafka's default: no).");
  public static final BrokerSetting<String> CLUSTER_ID =
      BrokerSetting.of("cluster.id", String.class, "diskless", "Cluster id reported to clients.");
  public static final BrokerSetting<Long> LEASE_MS =
      BrokerSetting.of(
          "lease.ms", Long.class, 10_000L, "Registration lease; failover starts after it.");
  public static final BrokerSetting<Long> LEASE_REJOIN_TIMEOUT_MS =
      BrokerSetting.of(
          "lease.rejoin.timeout.ms",
          Long.class,
          300_000L,
          "How long a broker without its lease tries to register again before it exits.");
  public static final BrokerSetting<Integer> MAX_FRAME_BYTES =
      BrokerSetting.of("max.frame.bytes", Integer.class, 100 << 20, "Largest request accepted.");
  public static final BrokerSetting<Long> QUEUED_MAX_REQUEST_BYTES =
      BrokerSetting.of(
          "queued.max.request.bytes",
          Long.class,
          256L << 20,
          "Request bytes all connections together may hold (Kafka's setting of that name);"
              + " a connection whose next request does not fit is not read until memory frees."
              + " At least max.frame.bytes.");
  public static final BrokerSetting<Integer> MAX_PARTITIONS_PER_TOPIC =
      BrokerSetting.of(
          "max.partitions.per.topic",
          Integer.class,
          10_000,
          "Most partitions a topic may have (CreateTopics, CreatePartitions).");
  public static final BrokerSetting<Integer> MAX_PARTITIONS_PER_CLUSTER =
      BrokerSetting.of(
          "max.partitions.per.cluster",
          Integer.class,
          100_000,
          "Most partitions all live topics together may have.");
  public static final BrokerSetting<Long> REPLICA_TAIL_POLL_MS =
      BrokerSetting.of(
          "replica.tail.poll.ms",
          Long.class,
          25L,
          "How often a read replica asks the metadata store for the high watermarks of the"
              + " partitions its long-polling fetches wait on (one query per broker, none while"
              + " nothing waits).");
  public static final BrokerSetting<Integer> HTTP_PORT =
      BrokerSetting.of("http.port", Integer.class, 8080, "Port of /metrics, /healthz, /readyz.");
  public static final BrokerSetting<Long> DRAIN_TIMEOUT_MS =
      BrokerSetting.of("drain.timeout.ms", Long.class, 30_000L, "Bound on a clean shutdown.");

  public static final BrokerSetting<String> OBJECT_STORE_BUCKET =
      BrokerSetting.required("object.store.bucket", "Bucket of the WAL and the data.");
  public static final BrokerSetting<String> OBJECT_STORE_REGION =
      BrokerSetting.of("object.store.region", String.class, "us-east-1", "Region of the bucket.");
  public static final BrokerSetting<String> OBJECT_STORE_ENDPOINT =
      BrokerSetting.optional("object.store.endpoint", "Endpoint of an S3-compatible store.");
  public static final BrokerSetting<Boolean> OBJECT_STORE_PATH_STYLE =
      BrokerSetting.of(
          "object.store.path.style", Boolean.class, true, "Path-style addressing (with endpoint).");
  public static final BrokerSetting<String> OBJECT_STORE_ACCESS_KEY_ID =
      BrokerSetting.optional("object.store.access.key.id", "Static access key id.");
  public static final BrokerSetting<String> OBJECT_STORE_SECRET_ACCESS_KEY =
      BrokerSetting.optional("object.store.secret.access.key", "Static secret access key.");
  public static final BrokerSetting<String> OBJECT_STORE_KEY_PREFIX =
      BrokerSetting.of("object.store.key.prefix", String.class, "", "Prefix of every object key.");

  public static final BrokerSetting<String> METADATA_JDBC_URL =
      BrokerSetting.required("metadata.jdbc.url", "PostgreSQL JDBC URL.");
  public static final BrokerSetting<String> METADATA_USER =
      BrokerSetting.of("metadata.user", String.class, "postgres", "PostgreSQL user.");
  public static final BrokerSetting<String> METADATA_PASSWORD =
      BrokerSetting.of("metadata.password", String.class, "", "PostgreSQL password.");
  public static final BrokerSetting<Integer> METADATA_POOL_SIZE =
      BrokerSetting.of("metadata.pool.size", Integer.class, 16, "Connections to PostgreSQL.");

  public static final BrokerSetting<String> WAL_TYPE =
      BrokerSetting.of("wal.type", String.class, "object", "object or volume.");
  public static final BrokerSetting<Long> WAL_MAX_OBJECT_BYTES =
      BrokerSetting.of("wal.max.object.bytes", Long.class, 8L << 20, "WAL object size bound.");
  public static final BrokerSetting<Long> WAL_MAX_AGE_MS =
      BrokerSetting.of("wal.max.age.ms", Long.class, 50L, "WAL object age bound.");
  public static final BrokerSetting<Long> WAL_GROUP_COMMIT_MAX_BYTES_PER_SECOND =
      BrokerSetting.of(
          "wal.group.commit.max.bytes.per.second",
          Long.class,
          4L << 20,
          "Below this input rate the object WAL flushes as soon as the previous flush committed"
              + " (group commit) instead of waiting for wal.max.age.ms; 0 turns it off.");
  public static final BrokerSetting<Long> WAL_GROUP_COMMIT_MIN_BYTES =
      BrokerSetting.of(
          "wal.group.commit.min.bytes",
          Long.class,
          1L << 20,
          "Above that rate, a buffer of this many bytes is still flushed as soon as the previous"
              + " flush committed.");
  public static final BrokerSetting<Integer> WAL_MAX_PUTS_PER_SECOND =
      BrokerSetting.of(
          "wal.max.puts.per.second",
          Integer.class,
          50,
          "Cost cap of group commit: the flushes it starts are at least 1/this seconds apart.");
  public static final BrokerSetting<String> WAL_VOLUME_ROOT =
      BrokerSetting.optional("wal.volume.root", "Mount point of the shared WAL volume.");
  public static final BrokerSetting<Long> CACHE_TAIL_BYTES =
      BrokerSetting.of("cache.tail.bytes", Long.class, 256L << 20, "Tail cache size.");
  public static final BrokerSetting<Long> CACHE_BLOCK_BYTES =
      BrokerSetting.of("cache.block.bytes", Long.class, 256L << 20, "Block cache size.");
  public static final BrokerSetting<Long> COMPACTION_INTERVAL_MS =
      BrokerSetting.of(
          "compaction.interval.ms",
          Long.class,
          30_000L,
          "How often background maintenance (retention, key compaction, segment compaction) runs"
              + " over the partitions this broker owns.");
  public static final BrokerSetting<Long> COMPACTION_KEY_MAP_BYTES =
      BrokerSetting.of(
          "compaction.key.map.bytes",
          Long.class,
          32L << 20,
          "Memory of one key-compaction run's key map (24 bytes a key; Kafka's"
              + " log.cleaner.dedupe.buffer.size): a compacted partition with more dirty keys is"
              + " cleaned in several runs.");

  /**
   * Apache Kafka group coordinator properties, passed through under their Kafka names; Kafka's
   * defaults apply to those not set.
   */
  public static final List<BrokerSetting<String>> GROUP_COORDINATOR =
      List.of(
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
              "group.consumer.assignors")
          .stream()
          .map(k -> BrokerSetting.optional(k, "Kafka group coordinator setting " + k + "."))
          .toList();

  /**
   * Apache Kafka transaction coordinator properties, passed through under their Kafka names;
   * Kafka's defaults apply to those not set.
   */
  public static final List<BrokerSetting<String>> TRANSACTION_COORDINATOR =
      List.of(
              "transaction.state.log.num.partitions",
              "transaction.max.timeout.ms",
              "transaction.abort.timed.out.transaction.cleanup.interval.ms",
              "transactional.id.expiration.ms")
          .stream()
          .map(k -> BrokerSetting.optional(k, "Kafka transaction coordinator setting " + k + "."))
          .toList();

  /**
   * Settings a listener may set for itself as {@code listener.name.<name>.<key>} (the name in lower
   * case, as Kafka writes it), overriding the broker-wide value for that listener only.
   */
  public static final List<BrokerSetting<?>> PER_LISTENER =
      List.of(
          SASL_ENABLED_MECHANISMS,
          SSL_CERTIFICATE_LOCATION,
          SSL_KEY_LOCATION,
          SSL_CA_LOCATION,
          SSL_CLIENT_AUTH,
          SSL_PRINCIPAL_MAPPING_RULES);

  /** The prefix of per-listener settings. */
  public static final String LISTENER_PREFIX = "listener.name.";

  /** Every setting, in declaration order. */
  public static final List<BrokerSetting<?>> ALL = all();

  /**
   * What a cluster's spec may override: tuning, never identity, addresses, storage or credentials
   * (the operator derives those from the rest of the spec).
   */
  public static final Set<String> OVERRIDABLE = overridable();

  private static List<BrokerSetting<?>> all() {
    List<BrokerSetting<?>> out = new ArrayList<>();
    for (Field f : BrokerSettingsSchema.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == BrokerSetting.class) {
        try {
          out.add((BrokerSetting<?>) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    out.addAll(GROUP_COORDINATOR);
    out.addAll(TRANSACTION_COORDINATOR);
    return List.copyOf(out);
  }

  private static Set<String> overridable() {
    Set<String> keys = new java.util.LinkedHashSet<>();
    for (BrokerSetting<?> s :
        List.of(
            LEASE_MS,
            MAX_FRAME_BYTES,
            QUEUED_MAX_REQUEST_BYTES,
            MAX_PARTITIONS_PER_TOPIC,
            MAX_PARTITIONS_PER_CLUSTER,
            DRAIN_TIMEOUT_MS,
            WAL_MAX_OBJECT_BYTES,
            WAL_MAX_AGE_MS,
            WAL_GROUP_COMMIT_MAX_BYTES_PER_SECOND,
            WAL_GROUP_COMMIT_MIN_BYTES,
            WAL_MAX_PUTS_PER_SECOND,
            CACHE_TAIL_BYTES,
            CACHE_BLOCK_BYTES,
            COMPACTION_KEY_MAP_BYTES)) {
      keys.add(s.key());
    }
    GROUP_COORDINATOR.forEach(s -> keys.add(s.key()));
    TRANSACTION_COORDINATOR.forEach(s -> keys.add(s.key()));
    return java.util.Collections.unmodifiableSet(keys);
  }
}
