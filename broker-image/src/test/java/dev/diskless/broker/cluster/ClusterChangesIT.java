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
 * full ownership pass only every 30 s; and an idle cluster costs PostgreSQL about one transaction a
 * second per broker, not the twenty-odd that polling every 300 ms took.
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
    awaitOwnershipSettled(storage.metadata());
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
    awaitOwnershipSettled(storage.metadata());
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
    // Polling every 300 ms took about 26; lease renewals alone are 0.4, and the rest about 0.6.
    assertThat(perBrokerPerSecond).isLessThan(2.0);
  }

  /**
   * Start-up balancing over: every broker owns offsets partitions, and no partition's owner or
   * epoch nor any requested move has changed for 10 s. (Busy passes run every 50 ms while
   * partitions move, which would open new partitions without any notification; and PostgreSQL would
   * count their transactions in the idle window.)
   */
  private void awaitOwnershipSettled(MetadataConfig metadata) {
    List<String> seen = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              List<Integer> offsets =
                  brokers.stream()
                      .map(x -> x.ownedPartitions("__consumer_offsets").size())
                      .toList();
              seen.add(offsets + " " + ownership(metadata));
              return !offsets.contains(0)
                  && seen.size() >= 10
                  && seen.subList(seen.size() - 10, seen.size()).stream().distinct().count() == 1;
            });
  }

  /** Every partition's owner and epoch, and the requested moves, as one string. */
  private static String ownership(MetadataConfig config) throws Exception {
    return query(
        config,
        "SELECT string_agg(topic_id || '-' || partition || ':' || COALESCE(owner_node, -1)"
            + " || '@' || leader_epoch, ',' ORDER BY topic_id, partition)"
            + " || '|' || (SELECT count(*) FROM partition_moves) FROM partitions",
        rs -> rs.next() ? rs.getString(1) : "");
  }

  /** Scans and row writes per table so far: where the transactions went. */
  private static Map<String, Long> tableScans(MetadataConfig config) throws Exception {
    return query(
        config,
        "SELECT relname, seq_scan + COALESCE(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del"
            + " FROM pg_stat_user_tables",
        rs -> {
          Map<String, Long> out = new java.util.TreeMap<>();
          while (rs.next()) {
            out.put(rs.getString(1), rs.getLong(2));
          }
          return out;
        });
  }

  /** Transactions committed or rolled back in the cluster's database so far. */
  private static long transactions(MetadataConfig config) throws Exception {
    return query(
        config,
        "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            + " WHERE datname = current_database()",
        rs -> rs.next() ? rs.getLong(1) : 0L);
  }

  private interface Rows<T> {
    T read(ResultSet rs) throws java.sql.SQLException;
  }

  /** {@code sql} on a connection of the test's own, outside the brokers' pools. */
  private static <T> T query(MetadataConfig config, String sql, Rows<T> rows) throws Exception {
    try (Connection c =
            DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      return rows.read(rs);
    }
  }
}
