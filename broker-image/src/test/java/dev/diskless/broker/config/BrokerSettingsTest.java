package dev.diskless.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerSettingsTest {

  @Test
  void aFileWithEnvironmentOverridesBecomesTheTypedConfig(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("broker.properties");
    Files.writeString(
        file,
        String.join(
            "\n",
            "object.store.bucket=events",
            "object.store.endpoint=http://minio:9000",
            "metadata.jdbc.url=jdbc:postgresql://pg:5432/diskless",
            "wal.max.age.ms=25",
            "wal.max.puts.per.second=10",
            "compaction.key.map.bytes=134217728",
            "compaction.interval.ms=5000",
            "advertised.host=placeholder"));
    BrokerConfig config =
        BrokerSettings.load(
                Optional.of(file),
                Map.of(
                    "DISKLESS_INSTANCE_ID", "broker-7f9c",
                    "DISKLESS_ADVERTISED_HOST", "10.1.2.3",
                    "DISKLESS_OBJECT_STORE_ACCESS_KEY_ID", "AKIA",
                    "DISKLESS_OBJECT_STORE_SECRET_ACCESS_KEY", "s3cr3t",
                    "DISKLESS_METADATA_PASSWORD", "pw"))
            .toConfig();
    assertThat(config.instanceId()).isEqualTo("broker-7f9c");
    assertThat(config.advertisedHost()).isEqualTo("10.1.2.3");
    assertThat(config.listeners())
        .as("without listeners: one named after its protocol")
        .extracting(ListenerConfig::name, ListenerConfig::port, ListenerConfig::advertisedHost)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("PLAINTEXT", 9092, "10.1.2.3"));
    assertThat(config.interBrokerListener()).isEqualTo("PLAINTEXT");
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.storage().objectStore().bucket()).isEqualTo("events");
    assertThat(config.storage().objectStore().endpoint())
        .hasValue(java.net.URI.create("http://minio:9000"));
    assertThat(config.storage().objectStore().credentials().orElseThrow().secretAccessKey())
        .isEqualTo("s3cr3t");
    assertThat(config.storage().metadata().password()).isEqualTo("pw");
    assertThat(config.storage().wal().maxAge().toMillis()).isEqualTo(25);
    assertThat(config.storage().wal().maxPutsPerSecond()).isEqualTo(10);
    assertThat(config.storage().wal().groupCommitMaxBytesPerSecond()).isEqualTo(4L << 20);
    assertThat(config.storage().volumeWal()).isEmpty();
    assertThat(config.storage().compaction().keyMapBytes()).isEqualTo(128L << 20);
    assertThat(config.storage().compaction().interval()).isEqualTo(Duration.ofSeconds(5));
  }

  private static final Map<String, String> REQUIRED =
      Map.of(
          "DISKLESS_OBJECT_STORE_BUCKET", "b",
          "DISKLESS_METADATA_JDBC_URL", "jdbc:postgresql://pg/db",
          "DISKLESS_INSTANCE_ID", "i");

  private static BrokerConfig read(String file, Path dir) throws Exception {
    Path path = dir.resolve("broker.properties");
    Files.writeString(path, file);
    return BrokerSettings.load(Optional.of(path), REQUIRED).toConfig();
  }

  @Test
  void namedListenersHaveTheirOwnAddressesAndSecurity(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("tls.crt"), "");
    BrokerConfig config =
        read(
            String.join(
                "\n",
                "listeners=INTERNAL://:9092,EXTERNAL://0.0.0.0:9094,REPLICATION://10.0.0.5:9095",
                "advertised.listeners=EXTERNAL://broker-0.example.com:31094",
                "advertised.host=10.0.0.5",
                "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL,"
                    + "REPLICATION:SASL_PLAINTEXT",
                "inter.broker.listener.name=replication",
                "sasl.enabled.mechanisms=PLAIN",
                "sasl.bootstrap.user=admin",
                "sasl.bootstrap.password=pw",
                "listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512",
                "listener.name.external.ssl.certificate.location=/tls/tls.crt",
                "listener.name.external.ssl.key.location=/tls/tls.key",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users=User:admin"),
            dir);
    assertThat(config.listeners())
        .extracting(
            ListenerConfig::name,
            ListenerConfig::host,
            ListenerConfig::port,
            ListenerConfig::advertisedHost,
            ListenerConfig::advertisedPort)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("INTERNAL", "0.0.0.0", 9092, "10.0.0.5", 0),
            org.assertj.core.groups.Tuple.tuple(
                "EXTERNAL", "0.0.0.0", 9094, "broker-0.example.com", 31094),
            org.assertj.core.groups.Tuple.tuple("REPLICATION", "10.0.0.5", 9095, "10.0.0.5", 0));
    assertThat(config.interBrokerListener()).isEqualTo("REPLICATION");
    assertThat(config.listeners().get(0).security().protocol().name).isEqualTo("PLAINTEXT");
    var external = config.listeners().get(1).security();
    assertThat(external.protocol().name).isEqualTo("SASL_SSL");
    assertThat(external.mechanisms()).containsExactly("SCRAM-SHA-512");
    assertThat(external.tls().orElseThrow().certificate()).isEqualTo(Path.of("/tls/tls.crt"));
    assertThat(config.security().mechanisms()).as("inter-broker").containsExactly("PLAIN");
    assertThat(config.security().authorization()).isPresent();
    assertThat(external.authorization()).as("broker-wide").isPresent();
  }

  /**
   * What the operator renders (its reviewed golden files) is what the broker accepts: every
   * ConfigMap's broker.properties, with the variables the pod adds, becomes a config.
   */
  @Test
  void everySettingsFileTheOperatorRendersIsAccepted() throws Exception {
    Path golden = Path.of("..", "operator", "src", "test", "resources", "golden");
    List<Path> files;
    try (var listing = Files.list(golden)) {
      files = listing.filter(f -> f.getFileName().toString().startsWith("out-")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(4);
    for (Path file : files) {
      StringBuilder properties = new StringBuilder();
      boolean inside = false;
      for (String line : Files.readAllLines(file)) {
        if (line.equals("  broker.properties: |")) {
          inside = true;
        } else if (inside && line.startsWith("    ")) {
          properties.append(line.substring(4)).append('\n');
        } else {
          inside = false;
        }
      }
      assertThat(properties).as(file.toString()).isNotEmpty();
      Path settings = Files.createTempFile("broker", ".properties");
      Files.writeString(settings, properties);
      // The variables the operator's pod template sets (the password only with a SASL listener).
      Map<String, String> env = new java.util.HashMap<>();
      env.put("DISKLESS_INSTANCE_ID", "pod-0");
      env.put("DISKLESS_ADVERTISED_HOST", "10.0.0.7");
      env.put("DISKLESS_METADATA_USER", "u");
      env.put("DISKLESS_METADATA_PASSWORD", "p");
      if (Files.readString(file).contains("DISKLESS_SASL_BOOTSTRAP_PASSWORD")) {
        env.put("DISKLESS_SASL_BOOTSTRAP_PASSWORD", "secret");
      }
      BrokerConfig config = BrokerSettings.load(Optional.of(settings), env).toConfig();
      Files.delete(settings);
      if (file.getFileName().toString().equals("out-secure.yaml")) {
        assertThat(config.listeners())
            .extracting(l -> l.name() + "/" + l.security().protocol() + "/" + l.port())
            .containsExactly(
                "INTERNAL/SASL_PLAINTEXT/9092", "EXTERNAL/SASL_SSL/9094", "MTLS/SSL/9095");
        assertThat(config.interBrokerListener()).isEqualTo("INTERNAL");
        assertThat(config.security().bootstrapUser().orElseThrow().name())
            .isEqualTo("diskless-operator");
        assertThat(config.security().authorization().orElseThrow().superUsers())
            .contains("User:diskless-operator", "User:platform-admin");
        var mtls = config.listeners().get(2).security().tls().orElseThrow();
        assertThat(mtls.clientAuth())
            .isEqualTo(dev.diskless.broker.security.TlsConfig.ClientAuth.REQUIRED);
        // The listener Secret's CA and the operator's clients CA are both trusted.
        assertThat(mtls.ca())
            .containsExactly(
                Path.of("/etc/diskless/tls/mtls/ca.crt"),
                Path.of("/etc/diskless/clients-ca/ca.crt"));
        var rules =
            org.apache.kafka.common.security.ssl.SslPrincipalMapper.fromRules(
                mtls.principalMappingRules());
        assertThat(rules.getName("CN=alice,OU=diskless-users")).isEqualTo("alice");
        assertThat(rules.getName("CN=bob,O=example")).isEqualTo("CN=bob,O=example");
        assertThat(rules.getName("CN=app")).isEqualTo("CN=app");
      }
    }
  }

  @Test
  void badListenersAreNamed(@TempDir Path dir) {
    String listeners = "listeners=INTERNAL://:9092,EXTERNAL://:9094\nadvertised.host=h\n";
    String map = "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL\n";
    assertThatThrownBy(() -> read(listeners, dir))
        .hasMessageContaining("listener INTERNAL has no security protocol")
        .hasMessageContaining("listener.security.protocol.map");
    assertThatThrownBy(() -> read(listeners + map, dir))
        .hasMessageContaining("listener EXTERNAL: a SASL_SSL listener needs")
        .hasMessageContaining("ssl.certificate.location");
    String plain =
        listeners + "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT\n";
    assertThatThrownBy(() -> read(plain + "inter.broker.listener.name=OTHER\n", dir))
        .hasMessageContaining("inter.broker.listener.name OTHER is not one of listeners");
    assertThatThrownBy(() -> read(plain + "advertised.listeners=PUBLIC://example.com:9094\n", dir))
        .hasMessageContaining("advertised.listeners names listeners that listeners does not")
        .hasMessageContaining("PUBLIC");
    assertThatThrownBy(() -> read("listeners=INTERNAL:9092\nadvertised.host=h\n", dir))
        .hasMessageContaining("listeners: a listener is NAME://host:port");
    assertThatThrownBy(
            () ->
                read(
                    "listeners=A://:9092,B://:9092\nadvertised.host=h\n"
                        + "inter.broker.listener.name=A\n"
                        + "listener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT\n",
                    dir))
        .hasMessageContaining("port 9092 is used by two listeners");
    assertThatThrownBy(
            () ->
                read(
                    "listeners=INTERNAL://:9092\nadvertised.host=h\n"
                        + "listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT\n",
                    dir))
        .as("brokers could not log in to each other")
        .hasMessageContaining("sasl.bootstrap.user");
  }

  @Test
  void theSettingsKeptForDescribeConfigsHideSecrets(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("broker.properties");
    Files.writeString(
        file,
        "advertised.host=h\nmetadata.password=pw\n"
            + "metadata.jdbc.url=jdbc:postgresql://pg/db?user=u&password=pw&ssl=true\n");
    BrokerConfig config =
        BrokerSettings.load(
                Optional.of(file),
                Map.of("DISKLESS_OBJECT_STORE_BUCKET", "b", "DISKLESS_INSTANCE_ID", "i"))
            .toConfig();
    Map<String, StaticSetting> byName = new java.util.HashMap<>();
    config.settings().forEach(s -> byName.put(s.name(), s));
    assertThat(byName.get("metadata.jdbc.url").value())
        .contains("jdbc:postgresql://pg/db?user=u&password=[hidden]&ssl=true");
    assertThat(byName.get("metadata.password").sensitive()).isTrue();
    assertThat(byName.get("metadata.password").type()).isEqualTo("PASSWORD");
    assertThat(byName.get("wal.max.age.ms").explicit()).isFalse();
    assertThat(byName.get("advertised.host").explicit()).isTrue();
  }

  @Test
  void listenerNamesFollowKafkasRules(@TempDir Path dir) throws Exception {
    String two =
        "listeners=INTERNAL://:9092,EXTERNAL://:9094\nadvertised.host=10.0.0.5\n"
            + "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:SSL\n";
    // A per-listener setting matches its listener whatever the case it is written in.
    BrokerConfig config =
        read(
            two
                + "inter.broker.listener.name=INTERNAL\n"
                + "listener.name.EXTERNAL.ssl.certificate.location=/t/tls.crt\n"
                + "listener.name.External.ssl.key.location=/t/tls.key\n"
                + "listener.name.EXTERNAL.ssl.client.auth=required\n"
                + "listener.name.EXTERNAL.ssl.ca.location=/t/ca.crt\n"
                + "advertised.listeners=EXTERNAL://:31094\n",
            dir);
    ListenerConfig external = config.listeners().get(1);
    assertThat(external.security().tls().orElseThrow().clientAuth())
        .isEqualTo(dev.diskless.broker.security.TlsConfig.ClientAuth.REQUIRED);
    assertThat(external.advertisedHost())
        .as("no host advertised: advertised.host")
        .isEqualTo("10.0.0.5");
    assertThat(external.advertisedPort()).isEqualTo(31094);
    // One that names no listener is a typo that would leave the real one unprotected.
    assertThatThrownBy(
            () ->
                read(
                    two
                        + "inter.broker.listener.name=INTERNAL\n"
                        + "listener.name.extrenal.ssl.client.auth=required\n",
                    dir))
        .hasMessageContaining("listener.name.extrenal.ssl.client.auth names no listener");
    // Kafka's default inter-broker listener is the one named PLAINTEXT; else it must be named.
    assertThatThrownBy(() -> read(two.replace("EXTERNAL:SSL", "EXTERNAL:PLAINTEXT"), dir))
        .hasMessageContaining("inter.broker.listener.name is required");
    assertThat(
            read(
                    "listeners=PLAINTEXT://:9092,EXTERNAL://:9094\nadvertised.host=h\n"
                        + "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT\n",
                    dir)
                .interBrokerListener())
        .isEqualTo("PLAINTEXT");
    assertThatThrownBy(
            () ->
                read(
                    "listeners=PLAINTEXT://:9092\nadvertised.listeners=PLAINTEXT://0.0.0.0:9092\n",
                    dir))
        .hasMessageContaining("advertises 0.0.0.0, which no client can connect to");
  }

  @Test
  void unknownKeysMissingValuesAndBadNumbersAreNamed() {
    assertThatThrownBy(() -> BrokerSettings.load(Optional.empty(), Map.of()).toConfig())
        .hasMessageContaining("object.store.bucket")
        .hasMessageContaining("DISKLESS_OBJECT_STORE_BUCKET");
    Map<String, String> base =
        Map.of(
            "DISKLESS_OBJECT_STORE_BUCKET", "b",
            "DISKLESS_METADATA_JDBC_URL", "jdbc:postgresql://pg/db",
            "DISKLESS_INSTANCE_ID", "i",
            "DISKLESS_ADVERTISED_HOST", "h");
    var withBadPort = new java.util.HashMap<>(base);
    withBadPort.put("DISKLESS_LISTEN_PORT", "ninety");
    assertThatThrownBy(() -> BrokerSettings.load(Optional.empty(), withBadPort).toConfig())
        .hasMessageContaining("listen.port");
    var withVolume = new java.util.HashMap<>(base);
    withVolume.put("DISKLESS_WAL_TYPE", "volume");
    assertThatThrownBy(() -> BrokerSettings.load(Optional.empty(), withVolume).toConfig())
        .hasMessageContaining("wal.volume.root");
  }

  @Test
  void anUnknownKeyInTheFileIsRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("broker.properties");
    Files.writeString(file, "log.dirs=/var/kafka\n");
    assertThatThrownBy(() -> BrokerSettings.load(Optional.of(file), Map.of()))
        .hasMessageContaining("log.dirs");
  }

  @Test
  void partitionLimitsAndRequestMemoryHaveKafkaLikeDefaultsAndCanBeSet() throws Exception {
    Map<String, String> base =
        Map.of(
            "DISKLESS_OBJECT_STORE_BUCKET", "b",
            "DISKLESS_METADATA_JDBC_URL", "jdbc:postgresql://pg/db",
            "DISKLESS_INSTANCE_ID", "i",
            "DISKLESS_ADVERTISED_HOST", "h");
    BrokerConfig defaults = BrokerSettings.load(Optional.empty(), base).toConfig();
    assertThat(defaults.partitionLimits().perTopic()).isEqualTo(10_000);
    assertThat(defaults.partitionLimits().perCluster()).isEqualTo(100_000);
    assertThat(defaults.queuedMaxRequestBytes()).isEqualTo(256L << 20);
    assertThat(defaults.replicaTailPoll()).isEqualTo(java.time.Duration.ofMillis(25));

    var set = new java.util.HashMap<>(base);
    set.put("DISKLESS_MAX_PARTITIONS_PER_TOPIC", "64");
    set.put("DISKLESS_MAX_PARTITIONS_PER_CLUSTER", "640");
    set.put("DISKLESS_QUEUED_MAX_REQUEST_BYTES", String.valueOf(200L << 20));
    BrokerConfig config = BrokerSettings.load(Optional.empty(), set).toConfig();
    assertThat(config.partitionLimits().perTopic()).isEqualTo(64);
    assertThat(config.partitionLimits().perCluster()).isEqualTo(640);
    assertThat(config.queuedMaxRequestBytes()).isEqualTo(200L << 20);
    var poll = new java.util.HashMap<>(base);
    poll.put("DISKLESS_REPLICA_TAIL_POLL_MS", "40");
    assertThat(BrokerSettings.load(Optional.empty(), poll).toConfig().replicaTailPoll())
        .isEqualTo(java.time.Duration.ofMillis(40));
    poll.put("DISKLESS_REPLICA_TAIL_POLL_MS", "0");
    assertThatThrownBy(() -> BrokerSettings.load(Optional.empty(), poll).toConfig())
        .hasMessageContaining("replica.tail.poll.ms");

    // As Kafka: a budget below the largest request could never read that request.
    var small = new java.util.HashMap<>(base);
    small.put("DISKLESS_QUEUED_MAX_REQUEST_BYTES", String.valueOf(1 << 20));
    assertThatThrownBy(() -> BrokerSettings.load(Optional.empty(), small).toConfig())
        .hasMessageContaining("queued.max.request.bytes")
        .hasMessageContaining("max.frame.bytes");
    var zero = new java.util.HashMap<>(base);
    zero.put("DISKLESS_MAX_PARTITIONS_PER_TOPIC", "0");
    assertThatThrownBy(() -> BrokerSettings.load(Optional.empty(), zero).toConfig())
        .hasMessageContaining("max.partitions.per.topic")
        .hasMessageContaining("positive");
  }
}
