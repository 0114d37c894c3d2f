package dev.diskless.e2e.chaos;

import dev.diskless.e2e.chaos.ChaosChecker.Anomaly;
import dev.diskless.e2e.chaos.ChaosChecker.Verdict;
import dev.diskless.e2e.chaos.ChaosHistory.Healed;
import dev.diskless.e2e.chaos.ChaosHistory.Injected;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chaos harness ({@code e2e/chaos.sh}): for each fault class, a workload of real Kafka clients
 * on a fresh topic of one cluster of real servers while a nemesis injects that class of fault on a
 * schedule drawn from the seed, then a final read and the checker. Prints one table row per class
 * and the command line that replays the run; keeps the history and broker logs of a failing class.
 * Exits 1 if any class shows an anomaly.
 */
public final class Chaos {

  private static final Logger LOG = LoggerFactory.getLogger(Chaos.class);

  /** A fault must be healed for this long before every partition acknowledges again. */
  static final Duration RECOVERY_LIMIT = Duration.ofSeconds(30);

  /** Where the build leaves the broker jar, from the repository's root. */
  static final Path DEFAULT_JAR = Path.of("broker-image/target/diskless-broker.jar");

  /** What to run. */
  public record Options(
      List<FaultClass> faults,
      Duration perFault,
      long seed,
      int rounds,
      int brokers,
      int partitions,
      int rate,
      Path out,
      Path brokerJar,
      Map<String, String> brokerSettings) {

    /** The command line that runs these options again. */
    public String replay() {
      return "e2e/chaos.sh --faults "
          + faults.stream().map(FaultClass::label).collect(Collectors.joining(","))
          + " --seconds-per-fault "
          + perFault.toSeconds()
          + " --seed "
          + seed
          + (rounds == 1 ? "" : " --repeat " + rounds)
          + " --brokers "
          + brokers
          + " --partitions "
          + partitions
          + " --rate "
          + rate
          + (brokerJar.equals(DEFAULT_JAR) ? "" : " --broker-jar " + brokerJar)
          + (brokerSettings.isEmpty()
              ? ""
              : " --set "
                  + brokerSettings.entrySet().stream()
                      .map(e -> e.getKey() + "=" + e.getValue())
                      .collect(Collectors.joining(",")));
    }
  }

  /** One row of the results: one fault class in one round, whose seed replays it alone. */
  public record Row(
      FaultClass fault,
      long seed,
      String skipped,
      Verdict verdict,
      List<String> injections,
      List<String> restarted) {
    /** An anomaly, or brokers the harness had to restart because they did not recover. */
    boolean failed() {
      return verdict != null && (!verdict.clean() || !restarted.isEmpty());
    }
  }

  private Chaos() {}

  public static void main(String[] args) throws Exception {
    Options options = parse(args);
    List<Row> rows;
    try {
      rows = run(options);
    } catch (Exception e) {
      // The workload's threads would keep the JVM alive: a harness that cannot run says so, exits.
      LOG.error("the chaos run could not go on", e);
      System.exit(2);
      return;
    }
    System.out.println(table(rows));
    System.out.println("replay: " + options.replay());
    System.exit(rows.stream().anyMatch(Row::failed) ? 1 : 0);
  }

  static Options parse(String[] args) {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value, got " + Arrays.toString(args));
      }
      a.put(args[i].substring(2), args[++i]);
    }
    String faults = a.getOrDefault("faults", "all");
    List<FaultClass> classes =
        faults.equals("all")
            ? List.of(FaultClass.values())
            : Arrays.stream(faults.split(",")).map(String::trim).map(FaultClass::of).toList();
    long seed = Long.parseLong(a.getOrDefault("seed", Long.toString(System.currentTimeMillis())));
    int rounds = Integer.parseInt(a.getOrDefault("repeat", "1"));
    if (rounds < 1) {
      throw new IllegalArgumentException("--repeat wants a count of rounds >= 1, got " + rounds);
    }
    return new Options(
        classes,
        Duration.ofSeconds(Long.parseLong(a.getOrDefault("seconds-per-fault", "60"))),
        seed,
        rounds,
        Integer.parseInt(a.getOrDefault("brokers", "3")),
        Integer.parseInt(a.getOrDefault("partitions", "6")),
        Integer.parseInt(a.getOrDefault("rate", "200")),
        Path.of(a.getOrDefault("out", "target/chaos-" + seed)),
        a.containsKey("broker-jar") ? Path.of(a.get("broker-jar")) : DEFAULT_JAR,
        settings(a.getOrDefault("set", "")));
  }

  /** {@code k=v,k2=v2}: broker settings over the harness's; {@code k=} drops one of those. */
  static Map<String, String> settings(String list) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : list.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--set wants name=value pairs, got " + pair);
      }
      out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
    }
    return out;
  }

  /** Runs every fault class of {@code options} on one cluster and returns the rows. */
  public static List<Row> run(Options options) throws Exception {
    Files.createDirectories(options.out());
    if (!Files.isRegularFile(options.brokerJar())) {
      throw new IllegalArgumentException(
          "no broker jar at " + options.brokerJar().toAbsolutePath() + " (build broker-image)");
    }
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("lease.ms", "4000");
    settings.put("drain.timeout.ms", "15000");
    settings.put("offsets.topic.num.partitions", "6");
    settings.put("group.initial.rebalance.delay.ms", "0");
    settings.put("compaction.interval.ms", "2000");
    // An empty value drops a setting: an older broker jar refuses settings it does not know.
    options
        .brokerSettings()
        .forEach(
            (k, v) -> {
              if (v.isEmpty()) {
                settings.remove(k);
              } else {
                settings.put(k, v);
              }
            });
    List<Row> rows = new ArrayList<>();
    try (ChaosCluster cluster =
        ChaosCluster.start(
            options.brokers(),
            options.brokerJar(),
            options.out(),
            settings,
            true,
            options.faults().contains(FaultClass.CLOCK_JUMP))) {
      // Ctrl-C must not leave broker processes, namespaces or the bridge behind.
      Thread cleanup = new Thread(cluster::close, "chaos-cleanup");
      Runtime.getRuntime().addShutdownHook(cleanup);
      // Round r runs every class with seed + r, so any one row replays alone with its own seed.
      for (int round = 0; round < options.rounds(); round++) {
        long seed = options.seed() + round;
        for (FaultClass fault : options.faults()) {
          String missing =
              switch (fault.needs()) {
                case NAMESPACES -> cluster.canCut() ? null : "needs network namespaces (root)";
                case CLOCK_SHIFT ->
                    cluster.canJumpClocks() ? null : "needs a C compiler (cc) for its clock shim";
                case NOTHING -> null;
              };
          Row row =
              missing != null
                  ? new Row(fault, seed, missing, null, List.of(), List.of())
                  : runClass(cluster, fault, seed, round, options);
          rows.add(row);
          if (row.verdict() != null) {
            LOG.info("{} (seed {}): {}", fault.label(), seed, summary(row));
          }
          // Written after every class: a long run stopped half way still leaves its rows.
          Files.writeString(options.out().resolve("results.md"), table(rows) + "\n");
        }
      }
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }
    return rows;
  }

  private static Row runClass(
      ChaosCluster cluster, FaultClass fault, long seed, int round, Options options)
      throws Exception {
    // Its own source per class, so that one class replays alone with the same seed.
    Random random = new Random(seed * 31 + fault.ordinal());
    ChaosHistory history = new ChaosHistory();
    String topic = "chaos-" + fault.label() + (round == 0 ? "" : "-" + round);
    List<String> injections = new ArrayList<>();
    Workload workload = new Workload(cluster.bootstrap(), topic, options.partitions(), history);
    workload.start(2, options.rate(), 1, 2);
    try {
      // Settle: every partition acknowledges before the first fault.
      awaitAcked(workload, Workload.now(), RECOVERY_LIMIT);
      long end = Workload.now() + options.perFault().toNanos();
      while (Workload.now() < end) {
        Thread.sleep(2_000 + random.nextInt(3_000));
        FaultClass.Injection injection = fault.inject(cluster, workload, random);
        history.add(new Injected(Workload.now(), fault.label() + ": " + injection.detail()));
        injections.add(injection.detail());
        LOG.info("{}: injected {}", fault.label(), injection.detail());
        Thread.sleep(fault.hold(random).toMillis());
        injection.heal();
        long healed = Workload.now();
        history.add(new Healed(healed, fault.label()));
        LOG.info("{}: healed {}", fault.label(), injection.detail());
        awaitAcked(workload, healed, RECOVERY_LIMIT.plusSeconds(10));
      }
    } finally {
      workload.stop();
    }
    boolean read = workload.finalRead(Duration.ofSeconds(120));
    if (!read) {
      LOG.warn("{}: the final read did not reach the end in 120 s", fault.label());
    }
    Verdict verdict = ChaosChecker.check(history.events(), options.partitions(), RECOVERY_LIMIT);
    Map<String, Long> failures =
        history.events().stream()
            .filter(e -> e instanceof ChaosHistory.Fail)
            .map(e -> ((ChaosHistory.Fail) e).error().replaceAll(":.*", ""))
            .collect(Collectors.groupingBy(e -> e, Collectors.counting()));
    if (!failures.isEmpty()) {
      LOG.info("{}: failed sends by error {}", fault.label(), failures);
    }
    Map<String, Long> poison =
        history.events().stream()
            .filter(e -> e instanceof ChaosHistory.Poison)
            .map(
                e ->
                    org.apache.kafka.common.protocol.Errors.forCode(
                            ((ChaosHistory.Poison) e).errorCode())
                        .name())
            .collect(Collectors.groupingBy(e -> e, Collectors.counting()));
    if (!poison.isEmpty()) {
      LOG.info("{}: poison batches answered {}", fault.label(), poison);
    }
    if (!verdict.clean()) {
      Path file = options.out().resolve(topic + "-history.jsonl");
      history.write(file);
      LOG.error(
          "{}: anomalies {} — history in {}, broker logs in {}",
          fault.label(),
          verdict.examples(),
          file,
          options.out());
    }
    List<String> restarted = cluster.restore(Duration.ofSeconds(60));
    if (!restarted.isEmpty()) {
      LOG.error(
          "{}: brokers {} did not serve 60 s after the run; restarted them for the next class",
          fault.label(),
          restarted);
    }
    // The next class starts on a cluster that does not carry this one's topics.
    workload.deleteTopics();
    return new Row(fault, seed, null, verdict, injections, restarted);
  }

  private static void awaitAcked(Workload workload, long since, Duration within)
      throws InterruptedException {
    long deadline = Workload.now() + within.toNanos();
    while (Workload.now() < deadline && !workload.allAckedSince(since)) {
      Thread.sleep(200);
    }
  }

  private static String summary(Row row) {
    Verdict v = row.verdict();
    return v.clean()
        ? "ok, " + v.acknowledged() + " acknowledged"
        : "ANOMALIES "
            + v.counts().entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .map(e -> e.getKey().column() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
  }

  /** The results as a Markdown table. */
  static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder();
    b.append("chaos run ").append(Instant.now()).append("\n\n");
    b.append(
        "| fault | seed | faults injected | ops | acknowledged | failed | polled"
            + " | transactions committed/aborted/unknown | keyed acknowledged/compacted away |");
    for (Anomaly a : Anomaly.values()) {
      b.append(' ').append(a.column()).append(" |");
    }
    b.append(" longest unavailable s | slowest recovery s | restarted by the harness |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    b.append("---:|".repeat(Anomaly.values().length)).append("---:|---:|---|\n");
    for (Row r : rows) {
      b.append("| ").append(r.fault().label()).append(" | ").append(r.seed()).append(" | ");
      if (r.verdict() == null) {
        b.append("skipped: ").append(r.skipped()).append(" |\n");
        continue;
      }
      Verdict v = r.verdict();
      b.append(r.injections().size())
          .append(" | ")
          .append(v.ops())
          .append(" | ")
          .append(v.acknowledged())
          .append(" | ")
          .append(v.failed())
          .append(" | ")
          .append(v.reads())
          .append(" | ")
          .append(v.committedTxns())
          .append('/')
          .append(v.abortedTxns())
          .append('/')
          .append(v.unknownTxns())
          .append(" | ")
          .append(v.keyedAcknowledged())
          .append('/')
          .append(v.compactedAway())
          .append(" |");
      for (Anomaly a : Anomaly.values()) {
        b.append(' ').append(v.count(a)).append(" |");
      }
      b.append(
          String.format(
              " %.1f | %s | %s |%n",
              v.longestUnavailableMs() / 1000.0,
              v.slowestRecoveryMs() < 0
                  ? "never"
                  : String.format("%.1f", v.slowestRecoveryMs() / 1000.0),
              r.restarted().isEmpty() ? "none" : String.join(", ", r.restarted())));
    }
    return b.toString();
  }
}
