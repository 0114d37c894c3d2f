package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.testing.PostgresFixture;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.fault.Fault;
import dev.diskless.storage.testing.fault.FaultProxy;
import dev.diskless.storage.wal.WalConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Offset commits while object storage fails a share of requests: a coordinator write the WAL could
 * not commit makes the coordinator reload from the committed log, so an acknowledged commit is
 * never lost and nothing that was not attempted is ever read back; once storage heals, commits
 * succeed again.
 */
class GroupFaultIT {

  @Test
  void acknowledgedCommitsSurviveObjectStoreFaults() throws Exception {
    long seed = Long.getLong("fault.seed", System.nanoTime());
    Random random = new Random(seed);
    try (FaultProxy proxy = new FaultProxy(S3ProxyFixture.get().endpoint())) {
      StorageConfig storage =
          StorageConfig.defaults(
                  S3ProxyFixture.get()
                      .newBucket(proxy.endpoint())
                      .withRetries(
                          2, Duration.ofMillis(5), Duration.ofMillis(50), Duration.ofSeconds(2)),
                  PostgresFixture.get().newDatabase())
              .withWal(
                  new WalConfig(
                      8 << 20, Duration.ofMillis(20), 4, 64L << 20, Duration.ofMinutes(2)));
      try (Broker broker =
              Broker.start(
                  BrokerConfig.local("group-faults", storage)
                      .withGroupCoordinator(Map.of("offsets.topic.num.partitions", "1")));
          Admin admin =
              Admin.create(
                  Map.of(
                      AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                      "127.0.0.1:" + broker.port(),
                      AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                      "3000",
                      AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                      "2000"))) {
        admin.createTopics(List.of(new NewTopic("faulty", 1, (short) 1))).all().get();
        TopicPartition tp = new TopicPartition("faulty", 0);
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .untilAsserted(
                () ->
                    admin
                        .alterConsumerGroupOffsets("g", Map.of(tp, new OffsetAndMetadata(0)))
                        .all()
                        .get());

        proxy.plan(
            (method, path) -> {
              double x;
              synchronized (random) {
                x = random.nextDouble();
              }
              if (x < 0.15 && method.equals("PUT")) return new Fault.Status(503, "SlowDown");
              if (x < 0.25 && method.equals("PUT")) return new Fault.DropResponse();
              if (x < 0.30) return new Fault.Reset();
              return Fault.NONE;
            });
        List<Long> acknowledged = new ArrayList<>();
        int failed = 0;
        for (long offset = 1; offset <= 60; offset++) {
          try {
            admin
                .alterConsumerGroupOffsets("g", Map.of(tp, new OffsetAndMetadata(offset)))
                .all()
                .get(5, TimeUnit.SECONDS);
            acknowledged.add(offset);
          } catch (Exception e) {
            failed++;
          }
        }
        proxy.heal();
        assertThat(proxy.injected()).as("faults injected (seed %d)", seed).isNotEmpty();
        assertThat(acknowledged).as("seed %d, %d failed", seed, failed).isNotEmpty();

        long lastAcked = acknowledged.get(acknowledged.size() - 1);
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .untilAsserted(
                () -> {
                  long committed =
                      admin
                          .listConsumerGroupOffsets("g")
                          .partitionsToOffsetAndMetadata()
                          .get()
                          .get(tp)
                          .offset();
                  // Never behind an acknowledged commit; never a value nobody tried to commit.
                  assertThat(committed).as("seed %d", seed).isBetween(lastAcked, 60L);
                });
        // Healed: the coordinator takes commits again.
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .untilAsserted(
                () ->
                    admin
                        .alterConsumerGroupOffsets("g", Map.of(tp, new OffsetAndMetadata(1000)))
                        .all()
                        .get());
        assertThat(
                admin
                    .listConsumerGroupOffsets("g")
                    .partitionsToOffsetAndMetadata()
                    .get()
                    .get(tp)
                    .offset())
            .isEqualTo(1000);
        assertThat(Set.copyOf(acknowledged)).hasSameSizeAs(acknowledged);
      }
    }
  }
}
