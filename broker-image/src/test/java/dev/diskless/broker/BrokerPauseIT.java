package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.AckedWorkload;
import dev.diskless.broker.testing.BrokerProcess;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.testing.RestartablePostgres;
import dev.diskless.storage.testing.S3ProxyFixture;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;

/**
 * A broker process paused (SIGSTOP) past its lease: fenced while it sleeps, it must find its lease
 * expired when it wakes, register again under a new epoch without a restart, and take partitions
 * again — losing nothing acknowledged. And a broker that cannot register again exits non-zero
 * instead of sitting unready forever.
 */
class BrokerPauseIT {

  // Shorter than the 10 s default so that the suite stays fast; the system properties let the
  // issue's scenario (10 s lease, 25 s pause) be measured with the same test.
  private static final Duration LEASE =
      Duration.ofSeconds(Long.getLong("diskless.pause.lease.seconds", 3));
  private static final Duration PAUSE =
      Duration.ofSeconds(Long.getLong("diskless.pause.seconds", LEASE.toSeconds() * 3));

  @Test
  void aBrokerPausedPastItsLeaseRejoinsUnderANewEpoch() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    String topic = "paused";
    try (MetadataStore metadata = MetadataStore.open(storage.metadata());
        Broker survivor = Broker.start(BrokerConfig.local("survivor", storage).withLease(LEASE));
        BrokerProcess sleeper =
            BrokerProcess.start(
                "sleeper",
                storage.objectStore(),
                storage.metadata(),
                Map.of("lease.ms", Long.toString(LEASE.toMillis())))) {
      BrokerRegistry registry = new BrokerRegistry(metadata);
      String bootstrap = "127.0.0.1:" + survivor.port() + ",127.0.0.1:" + sleeper.port();
      await().atMost(Duration.ofSeconds(60)).until(() -> sleeper.probe("/readyz") == 200);
      BrokerInfo before = registration(registry, sleeper.port());
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> leaders(admin, topic).contains(before.nodeId()));

        try (AckedWorkload workload = new AckedWorkload(bootstrap, topic, 4)) {
          await().atMost(Duration.ofSeconds(30)).until(() -> workload.acknowledged() > 100);
          sleeper.pause();
          Thread.sleep(PAUSE.toMillis());
          sleeper.resume();
          long resumed = System.nanoTime();

          await().atMost(Duration.ofSeconds(30)).until(() -> sleeper.probe("/readyz") == 200);
          long ready = System.nanoTime();
          BrokerInfo after = registration(registry, sleeper.port());
          assertThat(after.brokerEpoch()).isGreaterThan(before.brokerEpoch());
          // Balancing gives the rejoined broker partitions again, and it acknowledges on them.
          await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> leaders(admin, topic).contains(after.nodeId()));
          long leading = System.nanoTime();
          long everyPartition =
              await()
                  .atMost(Duration.ofSeconds(60))
                  .until(() -> workload.everyPartitionAckedSince(leading), a -> a.isPresent())
                  .getAsLong();
          System.out.printf(
              "broker paused %d s (lease %d s): ready again %d ms after SIGCONT, leading"
                  + " partitions after %d ms, every partition acknowledged after %d ms%n",
              PAUSE.toSeconds(),
              LEASE.toSeconds(),
              Duration.ofNanos(ready - resumed).toMillis(),
              Duration.ofNanos(leading - resumed).toMillis(),
              Duration.ofNanos(everyPartition - resumed).toMillis());
          workload.stop();
          assertThat(workload.failures()).isEmpty();
          workload.verify(bootstrap);
        }
      }
      String log = Files.readString(sleeper.log());
      assertThat(log).contains("lease expired").doesNotContain("taken over");
      assertThat(log).contains("registered again");
    }
  }

  @Test
  void aBrokerThatCannotRegisterAgainExitsNonZero() throws Exception {
    try (RestartablePostgres pg = new RestartablePostgres();
        BrokerProcess broker =
            BrokerProcess.start(
                "stranded",
                S3ProxyFixture.get().newBucket(),
                pg.newDatabase("stranded"),
                Map.of("lease.ms", "2000", "lease.rejoin.timeout.ms", "3000"))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> broker.probe("/readyz") == 200);
      pg.stop();
      // Without its lease it is not ready, but still alive while it tries to recover.
      await().atMost(Duration.ofSeconds(10)).until(() -> broker.probe("/readyz") == 503);
      assertThat(broker.probe("/healthz")).isEqualTo(200);
      assertThat(broker.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(broker.process().exitValue()).isEqualTo(1);
      assertThat(Files.readString(broker.log()))
          .contains("could not renew its lease for 3 s")
          .contains("stopping the broker");
    }
  }

  private static BrokerInfo registration(BrokerRegistry registry, int port) {
    Optional<BrokerInfo> found =
        registry.live().join().stream().filter(b -> b.port() == port).findFirst();
    assertThat(found).as("a live registration on port " + port).isPresent();
    return found.get();
  }

  private static List<Integer> leaders(Admin admin, String topic) throws Exception {
    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    return d.partitions().stream()
        .filter(p -> p.leader() != null)
        .map(p -> p.leader().id())
        .toList();
  }
}
