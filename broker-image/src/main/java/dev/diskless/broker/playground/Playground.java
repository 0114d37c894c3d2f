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
import java.util.stream.Collectors;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A whole local cluster in one process, on real components: an embedded PostgreSQL and an S3Proxy
 * bucket, both keeping their data under {@code dir} (so a restart with the same directory finds
 * everything again), and N brokers on loopback ports.
 */
public final class Playground implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Playground.class);
  private static final String BUCKET = "diskless-playground";
  private static final String KEY = "playground";
  private static final String SECRET = "playground-secret";

  private final EmbeddedPostgres postgres;
  private final S3Proxy s3;
  private final List<Broker> brokers = new ArrayList<>();
  private Path clientProperties;

  public Playground(Path dir, int brokerCount) throws Exception {
    this(dir, brokerCount, false);
  }

  /**
   * With {@code volumeWal}, the brokers acknowledge from a volume WAL under {@code dir/wal} (one
   * directory standing in for the shared volume) and upload to S3Proxy behind it.
   */
  public Playground(Path dir, int brokerCount, boolean volumeWal) throws Exception {
    this(dir, brokerCount, volumeWal, false);
  }

  /**
   * With {@code secure}, the brokers listen with SASL_SSL: a CA and a server certificate are made
   * under {@code dir/tls} (kept across restarts), an {@code admin} user gets SCRAM credentials with
   * a generated password (kept in {@code dir/admin.password}), requests are checked against ACLs
   * with {@code admin} as the super user, and {@link #clientProperties()} is a file any Kafka
   * client or tool can use as it is.
   */
  public Playground(Path dir, int brokerCount, boolean volumeWal, boolean secure) throws Exception {
    Path pgDir = dir.resolve("postgres");
    Path s3Dir = dir.resolve("s3");
    Files.createDirectories(s3Dir);
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
    s3 =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(s3Dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, KEY, SECRET)
            .build();
    s3.start();
    while (!"STARTED".equals(s3.getState())) {
      Thread.sleep(10);
    }
    URI endpoint = URI.create("http://127.0.0.1:" + s3.getPort());
    try (S3Client admin =
        S3Client.builder()
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY, SECRET)))
            .build()) {
      if (admin.listBuckets().buckets().stream().noneMatch(b -> b.name().equals(BUCKET))) {
        admin.createBucket(b -> b.bucket(BUCKET));
      }
    }
    StorageConfig storage =
        StorageConfig.defaults(
            ObjectStoreConfig.of(BUCKET, "us-east-1")
                .withEndpoint(endpoint, true)
                .withCredentials(KEY, SECRET),
            new MetadataConfig(
                "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/diskless",
                "postgres",
                "postgres",
                16));
    if (volumeWal) {
      Path walDir = dir.resolve("wal");
      Files.createDirectories(walDir);
      storage = storage.withVolumeWal(VolumeWalConfig.at(walDir));
    }
    SecurityConfig security = secure ? secure(dir) : SecurityConfig.PLAINTEXT;
    for (int i = 0; i < brokerCount; i++) {
      BrokerConfig config =
          new BrokerConfig(
              "playground-" + i + "-" + ProcessHandle.current().pid(),
              "127.0.0.1",
              0,
              "127.0.0.1",
              java.util.Optional.empty(),
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
    LOG.info(
        "playground: PostgreSQL on port {}, S3Proxy on {}, data in {}",
        postgres.getPort(),
        endpoint,
        dir);
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
  public java.util.Optional<Path> clientProperties() {
    return java.util.Optional.ofNullable(clientProperties);
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
    try {
      s3.stop();
    } catch (Exception ignored) {
      // stopping
    }
    try {
      postgres.close();
    } catch (Exception ignored) {
      // stopping
    }
  }
}
