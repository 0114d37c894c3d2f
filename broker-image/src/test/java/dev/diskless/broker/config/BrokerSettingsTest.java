package dev.diskless.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    assertThat(config.listenPort()).isEqualTo(9092);
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
