package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * diskless_partitions_unowned on a live broker's /metrics follows the ownership in PostgreSQL: 0
 * when every partition has a live owner, the count of partitions with none (a topic nobody was
 * given) or with an owner whose lease ended. The broker is marked draining first, so that its
 * controller has nowhere to put orphans and the gauge is seen above 0, not only for the moment a
 * failover takes; a second registration, live but never serving, stands for the other broker.
 */
class UnownedPartitionsIT {

  private static final Pattern UNOWNED =
      Pattern.compile("(?m)^diskless_partitions_unowned(?:\\{[^}]*\\})? (\\S+)$");

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void theGaugeCountsPartitionsWithoutALiveOwner() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    Broker broker = Broker.start(BrokerConfig.local("unowned", storage));
    try (MetadataStore metadata = MetadataStore.open(storage.metadata())) {
      BrokerRegistry registry = new BrokerRegistry(metadata);
      PartitionOwnership ownership = new PartitionOwnership(metadata);
      // The internal topics the broker created at start are its own.
      await().atMost(Duration.ofSeconds(30)).until(() -> unowned(broker) == 0);

      registry.markDraining(broker.registration()).join();
      TopicInfo topic = new TopicStore(metadata).create("orphans", 3, Map.of()).join();
      await().atMost(Duration.ofSeconds(30)).until(() -> unowned(broker) == 3);

      BrokerRegistration other =
          registry
              .register("elsewhere", "127.0.0.1", 1, Optional.empty(), Duration.ofMinutes(5))
              .join();
      for (int p = 0; p < 3; p++) {
        ownership.acquire(new TopicPartitionId(topic.topicId(), p), other.nodeId()).join();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> unowned(broker) == 0);

      // The owner's lease ends (as after a kill): its partitions have no live owner any more.
      registry.deregister(other).join();
      await().atMost(Duration.ofSeconds(30)).until(() -> unowned(broker) == 3);
      assertThat(broker.ownedPartitions("orphans")).isEmpty();
    } finally {
      // Draining with nowhere to hand partitions: a clean close would wait its whole timeout.
      broker.halt();
    }
  }

  private double unowned(Broker broker) throws Exception {
    String body =
        http.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Matcher m = UNOWNED.matcher(body);
    assertThat(m.find()).as("diskless_partitions_unowned on /metrics").isTrue();
    return Double.parseDouble(m.group(1));
  }
}
