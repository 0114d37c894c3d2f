package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Brokers joining a running cluster get their even share of a 100-partition topic by ownership
 * moves alone. The time from the last broker registered to balanced is printed (it is measured in
 * the e2e scenarios, never asserted here).
 */
class ScaleOutBalanceIT {

  private static final int PARTITIONS = 100;

  private final List<Broker> brokers = new ArrayList<>();

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  private Broker start(StorageConfig storage) throws Exception {
    Broker b = Broker.start(BrokerConfig.local("scale-out-" + brokers.size(), storage));
    brokers.add(b);
    return b;
  }

  private List<Integer> ownedCounts(String topic) {
    return brokers.stream().map(b -> b.ownedPartitions(topic).size()).toList();
  }

  private boolean balanced(String topic) {
    List<Integer> counts = ownedCounts(topic);
    int total = counts.stream().mapToInt(Integer::intValue).sum();
    int even = PARTITIONS / brokers.size();
    return total == PARTITIONS && counts.stream().allMatch(c -> c >= even && c <= even + 1);
  }

  @Test
  void joiningBrokersTakeTheirShareOfAHundredPartitions() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    for (int i = 0; i < 3; i++) {
      start(storage);
    }
    String bootstrap =
        brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic("spread", PARTITIONS, (short) 1))).all().get();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> balanced("spread"));

    start(storage);
    start(storage);
    long registered = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> balanced("spread"));
    long ms = (System.nanoTime() - registered) / 1_000_000;
    System.out.printf(
        "scale-out 3 -> 5 brokers: %d partitions balanced %d ms after the last broker registered;"
            + " owned %s%n",
        PARTITIONS, ms, ownedCounts("spread"));
    assertThat(ownedCounts("spread")).containsOnly(PARTITIONS / 5);
  }
}
