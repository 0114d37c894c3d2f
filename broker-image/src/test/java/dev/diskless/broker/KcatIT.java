package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.Kcat;
import dev.diskless.storage.StorageConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/**
 * kcat (librdkafka, a different Kafka client implementation) lists metadata, produces and consumes
 * through a broker. .ci/run installs kcat and sets DISKLESS_REQUIRE_KCAT, so in CI a missing kcat
 * fails this test.
 */
class KcatIT {

  @Test
  void kcatListsProducesAndConsumes() throws Exception {
    assumeTrue(
        Kcat.available(), "kcat is not installed here (apt-get install kcat); CI installs it");

    StorageConfig storage = TestStorage.fresh();
    try (Broker broker = Broker.start(BrokerConfig.local("kcat-broker", storage))) {
      String bootstrap = "127.0.0.1:" + broker.port();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic("kcat", 2, (short) 1))).all().get();
      }
      org.awaitility.Awaitility.await().until(() -> broker.ownedPartitions("kcat").size() == 2);

      Kcat.Result metadata = Kcat.run(List.of("kcat", "-b", bootstrap, "-L", "-t", "kcat"), null);
      assertThat(metadata.exitCode()).isZero();
      assertThat(metadata.out())
          .contains("topic \"kcat\" with 2 partitions")
          .contains("leader " + broker.nodeId());

      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        lines.add("line-" + i);
      }
      Kcat.Result produced =
          Kcat.run(
              List.of("kcat", "-b", bootstrap, "-t", "kcat", "-p", "1", "-P", "-X", "acks=all"),
              String.join("\n", lines) + "\n");
      assertThat(produced.exitCode()).as(produced.err()).isZero();

      Kcat.Result consumed =
          Kcat.run(
              List.of(
                  "kcat",
                  "-b",
                  bootstrap,
                  "-t",
                  "kcat",
                  "-p",
                  "1",
                  "-C",
                  "-o",
                  "beginning",
                  "-e",
                  "-f",
                  "%o %s\\n"),
              null);
      assertThat(consumed.exitCode()).as(consumed.err()).isZero();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        expected.add(i + " line-" + i);
      }
      assertThat(consumed.out().lines().toList()).containsExactlyElementsOf(expected);
    }
  }
}
