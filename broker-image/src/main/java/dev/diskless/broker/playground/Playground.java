package dev.diskless.broker.playground;

import dev.diskless.broker.Broker;
import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.security.AuthorizationConfig;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.security.TlsConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import dev.diskless.storage.wal.volume.VolumeWalConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole local cluster in one process, on real components: an embedded PostgreSQL and an S3Proxy
 * bucket (or a bucket in another S3-compatible store), both keeping their data under {@code dir}
 * (so a restart with the same directory finds everything again), and N brokers on loopback ports.
 */
public final class Playground implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Playground.class);

  private final EmbeddedPostgres postgres;
  private Optional<LocalObjectStore> localStore = Optional.empty();
  private final List<Broker> brokers = new ArrayList<>();
  private Path clientProperties;

  /**
   * What a playground runs: how many brokers; with {@code volumeWal} they acknowledge from a volume
   * WAL under {@code dir/wal} (one directory standing in for the shared volume) and upload behind
   * it; with {@code secure} they listen with SASL_SSL (see {@link #secure(Path)}); with an {@code
   * objectStore} they use that S3-compatible endpoint instead of an S3Proxy of their own.
   */
  public record Options(
      int brokers, boolean volumeWal, boolean secure, Optional<ObjectStore> objectStore) {

    public static Options of(int brokers) {
      return new Options(brokers, false, false, Optional.empty());
    }

    public Options withBrokers(int count) {
      return new Options(count, volumeWal, secure, objectStore);
    }

    public Options withVolumeWal() {
      return new Options(brokers, true, secure, objectStore);
    }

    public Options withSecurity() {
      return new Options(brokers, volumeWal, true, objectStore);
    }

    public Options withObjectStore(ObjectStore store) {
      return new Options(brokers, volumeWal, secure, Optional.of(store));
    }
  }

  /** An S3-compatible endpoint the playground keeps its bucket in, and the keys it signs with. */
  public record ObjectStore(URI endpoint, String accessKey, String secretKey) {

    /** A store started with {@code object-store}, which takes the playground's own keys. */
    public static ObjectStore local(URI endpoint) {
      return new ObjectStore(endpoint, LocalObjectStore.ACCESS_KEY, LocalObjectStore.SECRET_KEY);
    }
  }

  public Playground(Path dir, int brokerCount) throws Exception {
    this(dir, Options.of(brokerCount));
  }

  public Playground(Path dir, Options options) throws Exception {
    Path pgDir = dir.resolve("postgres");
    boolean fresh = !Files.exists(pgDir.resolve("PG_VERSION"));
    postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(pgDir)
            .setCleanDataDirectory(false)
            // close() stops it after the brokers have handed their partitions over through it; its
            // own hook would race ours and stop it first.
            .setRegisterShutdownHook(false)
            .start();
    if (fresh) {
      try (var c = postgres.getPostgresDatabase().getConnection()) {
        c.createStatement().execute("CREATE DATABASE diskless");
      }
    }
    // Whatever started is stopped again if a later step fails, so a failed start leaves no
    // PostgreSQL or store running behind it.
    try {
      ObjectStore store;
      if (options.objectStore().isPresent()) {
        store = options.objectStore().get();
        LocalObjectStore.ensureBucket(store.endpoint(), store.accessKey(), store.secretKey());
      } else {
        localStore = Optional.of(LocalObjectStore.start(dir.resolve("s3"), 0));
        store = ObjectStore.local(localStore.get().endpoint());
      }
      StorageConfig storage =
          StorageConfig.defaults(
              ObjectStoreConfig.of(LocalObjectStore.BUCKET, "us-east-1")
                  .withEndpoint(store.endpoint(), true)
                  .withCredentials(store.accessKey(), store.secretKey()),
              new MetadataConfig(
                  "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/diskless",
                  "postgres",
                  "postgres",
                  16));
      if (options.volumeWal()) {
        Path walDir = dir.resolve("wal");
        Files.createDirectories(walDir);
        storage = storage.withVolumeWal(VolumeWalConfig.at(walDir));
      }
      SecurityConfig security = options.secure() ? secure(dir) : SecurityConfig.PLAINTEXT;
      for (int i = 0; i < options.brokers(); i++) {
        BrokerConfig config =
            new BrokerConfig(
                "playground-" + i + "-" + ProcessHandle.current().pid(),
                "127.0.0.1",
                0,
                "127.0.0.1",
                Optional.empty(),
                "diskless-playground",
                Duration.ofSeconds(10),
                100 << 20,
                storage,
                0,
                // As Kafka's own quickstart configuration: groups form at once.
                java.util.Map.of("group.initial.rebalance.delay.ms", "0"),
                Duration.ofSeconds(30));
        brokers.add(Broker.start(config.withSecurity(security)));
      }
      awaitWholeCluster();
      LOG.info(
          "playground: PostgreSQL on port {}, object store {}, data in {}",
          postgres.getPort(),
          store.endpoint(),
          dir);
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /**
   * Waits until every broker tells clients about all of them: a broker hears of the ones started
   * after it by a notification, and a client handed the bootstrap servers at once must not find a
   * smaller cluster.
   */
  private void awaitWholeCluster() throws InterruptedException {
    java.util.Set<Integer> all =
        brokers.stream().map(Broker::nodeId).collect(java.util.stream.Collectors.toSet());
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    for (Broker broker : brokers) {
      while (!broker.servingBrokers().containsAll(all)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "broker "
                  + broker.nodeId()
                  + " sees brokers "
                  + broker.servingBrokers()
                  + " of "
                  + all
                  + " after 30 s");
        }
        Thread.sleep(20);
      }
    }
  }

  /**
   * The security of a secure playground: its certificates and admin password, made once under
   * {@code dir} and reused, and the client properties written next to them.
   */
  private SecurityConfig secure(Path dir) throws Exception {
    Path tls = dir.resolve("tls");
    Files.createDirectories(tls);
    Path certificate = tls.resolve("tls.crt");
    Path key = tls.resolve("tls.key");
    Path caFile = tls.resolve("ca.crt");
    if (!Files.exists(certificate) || !Files.exists(key) || !Files.exists(caFile)) {
      LocalCertificates.Issued ca = LocalCertificates.ca("diskless-playground-ca");
      LocalCertificates.Issued server = LocalCertificates.server(ca);
      LocalCertificates.writeCertificates(caFile, ca.certificate());
      LocalCertificates.writePkcs1Key(key, server.keys().getPrivate());
      LocalCertificates.writeCertificates(certificate, server.certificate(), ca.certificate());
    }
    Path passwordFile = dir.resolve("admin.password");
    if (!Files.exists(passwordFile)) {
      byte[] random = new byte[18];
      new java.security.SecureRandom().nextBytes(random);
      Files.writeString(passwordFile, java.util.Base64.getUrlEncoder().encodeToString(random));
    }
    String password = Files.readString(passwordFile).trim();
    clientProperties = dir.resolve("client.properties");
    Files.writeString(
        clientProperties,
        "security.protocol=SASL_SSL\n"
            + "sasl.mechanism=SCRAM-SHA-512\n"
            + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"admin\" password=\""
            + password
            + "\";\n"
            + "ssl.truststore.type=PEM\n"
            + "ssl.truststore.location="
            + caFile.toAbsolutePath()
            + "\n");
    // PLAIN too (inside TLS): librdkafka before 2.6.1 (kcat of most distributions) cannot do
    // SCRAM with Kafka 4 or with us.
    // Requests are checked against ACLs; admin may do everything and grants the rest. Brokers
    // reach each other on this listener too, as admin, trusting the playground's CA.
    return SecurityConfig.sasl("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
        .withBootstrapUser("admin", password)
        .withTls(
            new TlsConfig(
                certificate, key, java.util.List.of(caFile), TlsConfig.ClientAuth.NONE, "DEFAULT"))
        .withAuthorization(new AuthorizationConfig(java.util.Set.of("User:admin"), false));
  }

  /** The client properties of a secure playground (SASL_SSL as admin), if it is one. */
  public Optional<Path> clientProperties() {
    return Optional.ofNullable(clientProperties);
  }

  public String bootstrapServers() {
    return brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
  }

  public List<Broker> brokers() {
    return List.copyOf(brokers);
  }

  @Override
  public void close() {
    for (Broker b : brokers) {
      try {
        b.close();
      } catch (RuntimeException e) {
        LOG.warn("broker did not stop cleanly: {}", e.toString());
      }
    }
    localStore.ifPresent(LocalObjectStore::close);
    try {
      postgres.close();
    } catch (Exception ignored) {
      // stopping
    }
  }
}
