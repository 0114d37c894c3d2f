package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.RestartablePostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The broker lease across metadata outages, on a PostgreSQL server of the test's own that is
 * stopped, restarted and paused: a lease is never resurrected once it expired, a loss is reported
 * as what it was (expired, or taken over), renewals never wait longer than their interval even on a
 * stalled server, an outage shorter than the lease costs nothing, and registering again fences what
 * the earlier registration owned.
 */
class LeaseOutageIT {

  private static final Duration LEASE = Duration.ofSeconds(2);

  @Test
  void anOutageLongerThanTheLeaseEndsItAsExpiredNotTakenOver() throws Exception {
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore metadata = MetadataStore.open(pg.newDatabase("expired"));
        MetadataStore leasePool = metadata.dedicated("lease", Duration.ofMillis(500))) {
      BrokerRegistry registry = new BrokerRegistry(metadata);
      long sent = System.nanoTime();
      BrokerRegistration reg =
          registry.register("a", "127.0.0.1", 9092, Optional.empty(), LEASE).join();
      List<LeaseRenewal> lost = new CopyOnWriteArrayList<>();
      try (LeaseKeeper keeper =
          new LeaseKeeper(
              new BrokerRegistry(leasePool), reg, LEASE, sent, 0.01, Duration.ofMillis(100))) {
        keeper.onLost(lost::add).start();
        pg.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> !keeper.holds());
        // Past the lease by the database's clock too.
        Thread.sleep(LEASE.toMillis());
        assertThat(lost).isEmpty();
        pg.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> !lost.isEmpty());
        assertThat(lost).hasSize(1);
        assertThat(lost.get(0).outcome()).isEqualTo(LeaseRenewal.Outcome.EXPIRED);
        assertThat(lost.get(0).detail()).contains("nobody took the id over");
        assertThat(keeper.lost()).isTrue();
        assertThat(keeper.holds()).isFalse();
        // Never resurrected, however often it is renewed again.
        keeper.renewNow();
        assertThat(keeper.holds()).isFalse();
        assertThat(registry.leaseRunning(reg.nodeId(), reg.brokerEpoch()).join()).isFalse();
      }
      // The same instance registers again: the same id, a new epoch.
      BrokerRegistration again =
          registry.register("a", "127.0.0.1", 9092, Optional.empty(), LEASE).join();
      assertThat(again.nodeId()).isEqualTo(reg.nodeId());
      assertThat(again.brokerEpoch()).isGreaterThan(reg.brokerEpoch());
    }
  }

  @Test
  void anIdRegisteredByAnotherInstanceIsReportedTakenOver() throws Exception {
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore metadata = MetadataStore.open(pg.newDatabase("takenover"))) {
      BrokerRegistry registry = new BrokerRegistry(metadata);
      BrokerRegistration reg =
          registry
              .register("a", "127.0.0.1", 9092, Optional.empty(), Duration.ofMillis(300))
              .join();
      await().until(() -> !registry.leaseRunning(reg.nodeId(), reg.brokerEpoch()).join());
      BrokerRegistration other =
          registry.register("b", "127.0.0.1", 9093, Optional.empty(), LEASE).join();
      assertThat(other.nodeId()).isEqualTo(reg.nodeId());
      LeaseRenewal outcome = registry.renew(reg, LEASE).join();
      assertThat(outcome.outcome()).isEqualTo(LeaseRenewal.Outcome.TAKEN_OVER);
      assertThat(outcome.detail()).contains("instance b");
      assertThat(registry.renew(other, LEASE).join().renewed()).isTrue();
    }
  }

  @Test
  void aStalledServerCostsOneAttemptAndAShortPauseCostsNothing() throws Exception {
    Duration lease = Duration.ofSeconds(8);
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore metadata = MetadataStore.open(pg.newDatabase("paused"));
        MetadataStore leasePool = metadata.dedicated("lease", Duration.ofMillis(500))) {
      BrokerRegistry registry = new BrokerRegistry(metadata);
      long sent = System.nanoTime();
      BrokerRegistration reg =
          registry.register("a", "127.0.0.1", 9092, Optional.empty(), lease).join();
      List<LeaseRenewal> lost = new CopyOnWriteArrayList<>();
      try (LeaseKeeper keeper =
          new LeaseKeeper(
              new BrokerRegistry(leasePool), reg, lease, sent, 0.01, Duration.ofMillis(100))) {
        keeper.onLost(lost::add);
        pg.pause();
        try {
          // Each attempt gives up after one interval, so the renewal thread is never stuck.
          for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            keeper.renewNow();
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isLessThan(keeper.renewalInterval().multipliedBy(2));
          }
        } finally {
          pg.resume();
        }
        // Back within the lease: the next attempt renews it.
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  keeper.renewNow();
                  assertThat(keeper.holds()).isTrue();
                  assertThat(registry.leaseRunning(reg.nodeId(), reg.brokerEpoch()).join())
                      .isTrue();
                });
        assertThat(lost).isEmpty();
      }
    }
  }

  @Test
  void registeringAgainFencesThePartitionsTheEarlierRegistrationOwned() throws Exception {
    try (RestartablePostgres pg = new RestartablePostgres();
        MetadataStore metadata = MetadataStore.open(pg.newDatabase("fence"))) {
      BrokerRegistry registry = new BrokerRegistry(metadata);
      PartitionOwnership ownership = new PartitionOwnership(metadata);
      TopicInfo topic = new TopicStore(metadata).create("fenced", 2, Map.of()).join();
      BrokerRegistration first =
          registry.register("a", "127.0.0.1", 9092, Optional.empty(), LEASE).join();
      BrokerRegistration other =
          registry.register("b", "127.0.0.1", 9093, Optional.empty(), LEASE).join();
      TopicPartitionId mine = new TopicPartitionId(topic.topicId(), 0);
      TopicPartitionId theirs = new TopicPartitionId(topic.topicId(), 1);
      int epoch = ownership.acquire(mine, first.nodeId()).join().leaderEpoch();
      int otherEpoch = ownership.acquire(theirs, other.nodeId()).join().leaderEpoch();

      BrokerRegistration again =
          registry.register("a", "127.0.0.1", 9092, Optional.empty(), LEASE).join();

      PartitionMetadata fenced = ownership.describe(mine).join();
      assertThat(fenced.owner()).isEqualTo(OptionalInt.of(first.nodeId()));
      assertThat(fenced.leaderEpoch()).isEqualTo(epoch + 1);
      assertThat(fenced.previousOwner()).isEqualTo(OptionalInt.of(first.nodeId()));
      assertThat(fenced.previousOwnerEpoch()).isEqualTo(first.brokerEpoch());
      assertThat(fenced.previousOwnerReleased()).isFalse();
      assertThat(again.brokerEpoch()).isEqualTo(first.brokerEpoch() + 1);
      // Another broker's partition is untouched.
      assertThat(ownership.describe(theirs).join().leaderEpoch()).isEqualTo(otherEpoch);
    }
  }
}
