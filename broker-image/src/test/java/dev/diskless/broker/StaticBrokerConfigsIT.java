package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerSettings;
import dev.diskless.broker.testing.KafkaTool;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.tools.ConfigCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kafka-configs.sh --describe --all --entity-type brokers} against a broker started from a
 * settings file, as the operator starts it: every setting with its value and source (set in the
 * file or the environment, or the default), secrets hidden, and none of it among the dynamic
 * configs a plain {@code --describe} lists.
 */
class StaticBrokerConfigsIT {

  @TempDir Path dir;

  @Test
  void kafkaConfigsDescribesEverySettingWithItsSource() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    var objects = storage.objectStore();
    var credentials = objects.credentials().orElseThrow();
    Path file = dir.resolve("broker.properties");
    Files.writeString(
        file,
        String.join(
            "\n",
            "object.store.bucket=" + objects.bucket(),
            "object.store.region=" + objects.region(),
            "object.store.endpoint=" + objects.endpoint().orElseThrow(),
            "object.store.path.style=" + objects.pathStyle(),
            "object.store.access.key.id=" + credentials.accessKeyId(),
            "metadata.jdbc.url=" + storage.metadata().jdbcUrl(),
            "metadata.user=" + storage.metadata().user(),
            "listen.host=127.0.0.1",
            "listen.port=0",
            "http.port=-1",
            "wal.max.age.ms=25",
            "instance.id=static-configs"));
    var config =
        BrokerSettings.load(
                Optional.of(file),
                Map.of(
                    "DISKLESS_ADVERTISED_HOST", "127.0.0.1",
                    "DISKLESS_METADATA_PASSWORD", storage.metadata().password(),
                    "DISKLESS_OBJECT_STORE_SECRET_ACCESS_KEY", credentials.secretAccessKey()))
            .toConfig();
    try (Broker broker = Broker.start(config, StorageMetrics.noExport())) {
      String bootstrap = "127.0.0.1:" + broker.port();
      String node = String.valueOf(broker.nodeId());
      String all =
          KafkaTool.run(
              ConfigCommand::main,
              "--bootstrap-server",
              bootstrap,
              "--describe",
              "--all",
              "--entity-type",
              "brokers",
              "--entity-name",
              node);
      assertThat(all)
          .contains("All configs for broker " + node + " are:")
          .contains(
              "wal.max.age.ms=25 sensitive=false synonyms={STATIC_BROKER_CONFIG:wal.max.age.ms=25}")
          .contains("advertised.host=127.0.0.1 sensitive=false")
          .contains("cache.tail.bytes=")
          .contains("synonyms={DEFAULT_CONFIG:cache.tail.bytes=")
          .contains("metadata.password=null sensitive=true")
          .contains("object.store.secret.access.key=null sensitive=true")
          .contains("leader.replication.throttled.rate=9223372036854775807")
          .doesNotContain("metadata.password=" + storage.metadata().password())
          .doesNotContain("object.store.secret.access.key=" + credentials.secretAccessKey());
      // Without --all only dynamic configs are listed, as with Kafka.
      String dynamic =
          KafkaTool.run(
              ConfigCommand::main,
              "--bootstrap-server",
              bootstrap,
              "--describe",
              "--entity-type",
              "brokers",
              "--entity-name",
              node);
      assertThat(dynamic).doesNotContain("wal.max.age.ms");
    }
  }
}
