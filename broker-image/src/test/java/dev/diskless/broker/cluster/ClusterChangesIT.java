package dev.diskless.broker.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.Broker;
import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.testing.PostgresFixture;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.wal.WalConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Brokers hear of metadata changes instead of polling for them (PostgreSQL LISTEN/NOTIFY): a
 * partition assigned by one broker is opened by another at once, although an idle broker runs a
 * full ownership pass only every 30 s; and an idle cluster costs PostgreSQL a couple of
 * transactions a second per broker, not the twenty-odd that polling every 300 ms took.
 */
class ClusterChangesIT {

  private final List<Broker> brokers = new ArrayList<>();

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  private static StorageConfig storage() {
    return StorageConfig.defaults(
            S3ProxyFixture.get().newBucket(), PostgresFixture.get().newDatabase())
        .withWal(
            new WalConfig(8 << 20, Duration.ofMillis(20), 4, 64L << 20, Duration.ofMinutes(2)));
  }

  private Broker start(StorageConfig storage) throws Exception {
    Broker b = Broker.start(BrokerConfig.local("changes-" + brokers.size(), storage));
    brokers.add(b);
    return b;
  }

  @Test
  void partitionsAssignedThroughOneBrokerAreOpenedByAnotherWithoutWaitingForAPass()
      throws Exception {
    StorageConfig storage = storage();
    Broker a = start(storage);
    Broker b = start(storage);
    awaitOwnershipSettled();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + a.port()))) {
      admin.createTopics(List.of(new NewTopic("heard", 8, (short) 1))).all().get();
    }

    // Far less than the 30 s between quiet passes: b opened its share because it was told.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                b.ownedPartitions("heard").size() > 0
                    && a.ownedPartitions("heard").size() + b.ownedPartitions("heard").size() == 8);
  }

  @Test
  void anIdleClusterCostsPostgresFewTransactions() throws Exception {
    StorageConfig storage = storage();
    start(storage);
    start(storage);
    start(storage);
    awaitOwnershipSettled();
    // PostgreSQL counts a backend's transactions only when it next reports them: let start-up's
    // reports in before the window opens.
    Thread.sleep(20_000);

    long before = transactions(storage.metadata());
    Map<String, Long> tablesBefore = tableScans(storage.metadata());
    Thread.sleep(30_000);
    double perBrokerPerSecond = (transactions(storage.metadata()) - before) / 30.0 / 3;
    Map<String, Long> tablesAfter = tableScans(storage.metadata());
    tablesAfter.forEach(
        (t, n) -> {
          long d = n - tablesBefore.getOrDefault(t, 0L);
          if (d > 0) {
            System.out.printf("  %s: %d scans and writes in 30 s%n", t, d);
          }
        });

    System.out.printf(
        "idle cluster of 3: %.2f PostgreSQL transactions/s per broker%n", perBrokerPerSecond);
    // Polling every 300 ms took about 26; lease renewals alone are 0.4.
    assertThat(perBrokerPerSecond).isLessThan(4.0);
  }

  /**
   * Start-up balancing over: every broker owns offsets partitions, and how many has not changed for
   * 10 s. (Busy passes run every 50 ms while partitions move, which would open new partitions
   * without any notification.)
   */
  private void awaitOwnershipSettled() {
    List<List<Integer>> seen = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              seen.add(
                  brokers.stream()
                      .map(x -> x.ownedPartitions("__consumer_offsets").size())
                      .toList());
              return !seen.getLast().contains(0)
                  && seen.size() >= 10
                  && seen.subList(seen.size() - 10, seen.size()).stream().distinct().count() == 1;
            });
  }

  /** Scans and row writes per table so far: where the transactions went. */
  private static Map<String, Long> tableScans(MetadataConfig config) throws Exception {
    Map<String, Long> out = new java.util.TreeMap<>();
    try (Connection c =
            DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT relname, seq_scan + COALESCE(idx_scan, 0) + n_tup_ins + n_tup_upd"
                        + " + n_tup_del FROM pg_stat_user_tables")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getLong(2));
      }
    }
    return out;
  }

  /** Transactions committed or rolled back in the cluster's database so far. */
  private static long transactions(MetadataConfig config) throws Exception {
    try (Connection c =
            DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                        + " WHERE datname = current_database()")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
