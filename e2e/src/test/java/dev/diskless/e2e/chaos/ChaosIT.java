package dev.diskless.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.e2e.chaos.Chaos.Options;
import dev.diskless.e2e.chaos.Chaos.Row;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * CI's share of the chaos harness: every fault class for a short while (one or two injections each,
 * {@code -Dchaos.seconds}, default 10) on a cluster of three broker processes, on a random schedule
 * whose seed is printed with the command line that replays it ({@code -Dchaos.seed} fixes it).
 * Fails on any anomaly and on any partition that does not acknowledge again within 30 s of a fault
 * healing. Long runs are {@code e2e/chaos.sh}'s job (docs/reliability.md).
 */
class ChaosIT {

  @Test
  @Timeout(value = 40, unit = TimeUnit.MINUTES)
  void noFaultClassCausesAnAnomaly() throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
    Options options =
        new Options(
            List.of(FaultClass.values()),
            Duration.ofSeconds(Long.getLong("chaos.seconds", 10)),
            seed,
            1,
            3,
            6,
            200,
            Path.of("target", "chaos-" + seed),
            repo.resolve("broker-image/target/diskless-broker.jar"),
            java.util.Map.of());
    List<Row> rows = Chaos.run(options);
    String table = Chaos.table(rows);
    System.out.println(table);
    System.out.println("replay: " + options.replay());
    assertThat(rows)
        .as("anomalies (history and broker logs in %s):%n%s", options.out().toAbsolutePath(), table)
        .noneMatch(Row::failed);
    // A workload that never reached a compacted topic or committed a transaction checked nothing
    // there: every row that ran must have had keyed sends, and the run committed transactions.
    List<Row> ran = rows.stream().filter(r -> r.verdict() != null).toList();
    assertThat(ran).as("rows run:%n%s", table).hasSizeGreaterThan(0);
    assertThat(ran)
        .as("keyed sends in every row:%n%s", table)
        .allMatch(r -> r.verdict().keyedAcknowledged() > 0);
    assertThat(ran.stream().mapToInt(r -> r.verdict().committedTxns()).sum())
        .as("committed transactions:%n%s", table)
        .isGreaterThan(0);
  }
}
