package dev.diskless.e2e.chaos;

import dev.diskless.e2e.chaos.ChaosCluster.Cut;
import dev.diskless.storage.CrashPoints;
import dev.diskless.storage.testing.fault.Fault;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The fault classes of ../shared/RELIABILITY.md that the chaos harness injects, each with how it is
 * injected and healed and how long it is held. Choices inside a class (which broker, which
 * requests) come from the run's seeded random source, so a seed replays the same schedule.
 */
enum FaultClass {
  /** kill -9 of one broker; healed by starting it again. */
  KILL_ONE(Duration.ofSeconds(4), Duration.ofSeconds(10), Needs.NOTHING),
  /** kill -9 of every broker at once; healed by starting them all. */
  KILL_ALL(Duration.ofSeconds(2), Duration.ofSeconds(6), Needs.NOTHING),
  /** SIGSTOP of one broker past its lease, then SIGCONT: the zombie must not serve stale data. */
  PAUSE_ONE(Duration.ofSeconds(7), Duration.ofSeconds(12), Needs.NOTHING),
  /**
   * One broker restarted armed to halt, as kill -9 would, the N-th time it reaches a step of the
   * write path: after a WAL object's PUT (nothing committed) or after its metadata commit (nothing
   * acknowledged); healed by starting it again unarmed.
   */
  CRASH_POINT(Duration.ofSeconds(1), Duration.ofSeconds(5), Needs.NOTHING),
  /** SIGTERM of each broker in turn, each started again once the previous one serves. */
  ROLLING_RESTART(Duration.ZERO, Duration.ZERO, Needs.NOTHING),
  /** PostgreSQL stopped, then started again. */
  POSTGRES_RESTART(Duration.ofSeconds(3), Duration.ofSeconds(12), Needs.NOTHING),
  /** PostgreSQL paused (SIGSTOP of every backend: connections open, nothing answers). */
  POSTGRES_PAUSE(Duration.ofSeconds(3), Duration.ofSeconds(12), Needs.NOTHING),
  /** A third of object-store requests answered 500 InternalError or 503 SlowDown. */
  S3_ERRORS(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.NOTHING),
  /** Half of object-store requests delayed by 1 to 3 seconds. */
  S3_LATENCY(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.NOTHING),
  /** A third of object-store connections reset before the request is forwarded. */
  S3_RESETS(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.NOTHING),
  /** A third of PUTs applied by the store but their responses dropped. */
  S3_UNANSWERED_PUTS(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.NOTHING),
  /** A third of GET bodies truncated after the headers promised them whole. */
  S3_TRUNCATED_GETS(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.NOTHING),
  /** One broker cut from PostgreSQL only. */
  CUT_POSTGRES_ONE(Duration.ofSeconds(7), Duration.ofSeconds(12), Needs.NAMESPACES),
  /** One broker cut from the object store only. */
  CUT_S3_ONE(Duration.ofSeconds(7), Duration.ofSeconds(12), Needs.NAMESPACES),
  /** One broker cut from its clients only. */
  CUT_CLIENTS_ONE(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.NAMESPACES),
  /** One broker cut from everything: PostgreSQL, the object store, clients and other brokers. */
  CUT_ALL_ONE(Duration.ofSeconds(7), Duration.ofSeconds(12), Needs.NAMESPACES),
  /**
   * Misbehaving clients against one broker ({@link BadClients}): garbage and oversized frames,
   * unfinished frames and unread answers held open, poison batches to the workload's topic.
   */
  BAD_CLIENTS(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.NOTHING),
  /**
   * One broker's wall clock stepped forward 1–10 minutes or back 30 s–5 minutes, as a bad NTP step
   * would ({@link FakeClock}: its monotonic clock untouched); healed by stepping it back.
   */
  CLOCK_JUMP(Duration.ofSeconds(5), Duration.ofSeconds(12), Needs.CLOCK_SHIFT),
  /**
   * A topic beside the workload's deleted and created again under its name, over and over, by one
   * producer that lives across the generations ({@link TopicChurn}).
   */
  TOPIC_RECREATE(Duration.ofSeconds(8), Duration.ofSeconds(15), Needs.NOTHING);

  /** What the machine must offer for a class to be injected. */
  enum Needs {
    NOTHING,
    /** Network namespaces (root), for cuts. */
    NAMESPACES,
    /** A C compiler, to build the clock shim ({@link FakeClock}). */
    CLOCK_SHIFT
  }

  /** A fault in place; {@link #heal()} takes it away. */
  interface Injection {
    String detail();

    void heal() throws Exception;
  }

  private final Duration minHold;
  private final Duration maxHold;
  private final Needs needs;

  FaultClass(Duration minHold, Duration maxHold, Needs needs) {
    this.minHold = minHold;
    this.maxHold = maxHold;
    this.needs = needs;
  }

  /** Its name on the command line and in the table: kill-one, s3-errors, ... */
  String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  static FaultClass of(String label) {
    for (FaultClass f : values()) {
      if (f.label().equals(label)) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown fault class " + label);
  }

  Needs needs() {
    return needs;
  }

  /** How long to hold it, drawn from the class's range. */
  Duration hold(Random random) {
    long span = maxHold.toMillis() - minHold.toMillis();
    return minHold.plusMillis(span <= 0 ? 0 : random.nextLong(span + 1));
  }

  Injection inject(ChaosCluster cluster, Workload workload, Random random) throws Exception {
    List<BrokerNode> brokers = cluster.brokers();
    BrokerNode one = brokers.get(random.nextInt(brokers.size()));
    return switch (this) {
      case KILL_ONE -> {
        one.kill();
        yield injection("killed " + one.name(), one::start);
      }
      case KILL_ALL -> {
        for (BrokerNode b : brokers) {
          b.kill();
        }
        yield injection(
            "killed all",
            () -> {
              for (BrokerNode b : brokers) {
                b.start();
              }
            });
      }
      case PAUSE_ONE -> {
        one.pause();
        yield injection("paused " + one.name(), one::resume);
      }
      case CRASH_POINT -> {
        String point =
            random.nextBoolean() ? CrashPoints.WAL_AFTER_PUT : CrashPoints.WAL_AFTER_COMMIT;
        String armed = point + ":" + (1 + random.nextInt(20));
        one.kill();
        one.start(Map.of(CrashPoints.ENV, armed));
        // It must start, take partitions and flush that often: wait for the halt itself.
        boolean halted = one.awaitExit(Duration.ofSeconds(90));
        yield injection(
            "restarted "
                + one.name()
                + " armed with "
                + armed
                + (halted ? ", it halted there" : ", it did not get there in 90 s"),
            () -> {
              one.kill();
              one.start();
            });
      }
      case ROLLING_RESTART -> {
        for (BrokerNode b : brokers) {
          b.terminate(Duration.ofSeconds(40));
          b.start();
          cluster.awaitReady(Duration.ofSeconds(90));
        }
        yield injection("rolled " + brokers.size() + " brokers", () -> {});
      }
      case POSTGRES_RESTART -> {
        cluster.postgres().stop();
        yield injection("stopped PostgreSQL", cluster.postgres()::start);
      }
      case POSTGRES_PAUSE -> {
        cluster.postgres().pause();
        yield injection("paused PostgreSQL", cluster.postgres()::resume);
      }
      case S3_ERRORS ->
          objectStore(
              cluster,
              random,
              (r, method) ->
                  r.nextInt(3) != 0
                      ? Fault.NONE
                      : r.nextBoolean()
                          ? new Fault.Status(503, "SlowDown")
                          : new Fault.Status(500, "InternalError"));
      case S3_LATENCY ->
          objectStore(
              cluster,
              random,
              (r, method) ->
                  r.nextBoolean()
                      ? new Fault.Delay(Duration.ofMillis(1000 + r.nextInt(2000)))
                      : Fault.NONE);
      case S3_RESETS ->
          objectStore(
              cluster, random, (r, method) -> r.nextInt(3) == 0 ? new Fault.Reset() : Fault.NONE);
      case S3_UNANSWERED_PUTS ->
          objectStore(
              cluster,
              random,
              (r, method) ->
                  method.equals("PUT") && r.nextInt(3) == 0
                      ? new Fault.DropResponse()
                      : Fault.NONE);
      case S3_TRUNCATED_GETS ->
          objectStore(
              cluster,
              random,
              (r, method) ->
                  method.equals("GET") && r.nextInt(3) == 0
                      ? new Fault.TruncateBody()
                      : Fault.NONE);
      case CUT_POSTGRES_ONE -> cut(cluster, one, Cut.POSTGRES);
      case CUT_S3_ONE -> cut(cluster, one, Cut.OBJECT_STORE);
      case CUT_CLIENTS_ONE -> cut(cluster, one, Cut.CLIENTS);
      case CUT_ALL_ONE -> cut(cluster, one, Cut.EVERYTHING);
      case CLOCK_JUMP -> {
        long seconds =
            random.nextBoolean() ? 60 + random.nextInt(541) : -(30 + random.nextInt(271));
        one.jumpClock(seconds);
        yield injection(
            "stepped " + one.name() + "'s clock " + (seconds > 0 ? "+" : "") + seconds + " s",
            () -> one.jumpClock(0));
      }
      case TOPIC_RECREATE -> {
        TopicChurn churn =
            new TopicChurn(
                cluster.bootstrap(),
                workload.topic() + "-recreated-" + random.nextInt(1_000_000),
                workload.history());
        yield injection("deleting and re-creating a topic", churn::stop);
      }
      case BAD_CLIENTS -> {
        BadClients bad =
            new BadClients(
                one,
                brokers,
                workload.topic(),
                workload.partitions(),
                workload.history(),
                new Random(random.nextLong()));
        yield injection("bad clients against " + one.name(), bad::stop);
      }
    };
  }

  /** Chooses a fault per object-store request. */
  @FunctionalInterface
  private interface RequestFault {
    Fault choose(Random random, String method);
  }

  private static Injection objectStore(ChaosCluster cluster, Random random, RequestFault fault) {
    // Its own source, seeded from the run's: requests arrive in no fixed order anyway.
    Random perRequest = new Random(random.nextLong());
    cluster
        .objectStore()
        .plan(
            (method, path) -> {
              synchronized (perRequest) {
                return fault.choose(perRequest, method);
              }
            });
    return injection("object store faults", () -> cluster.objectStore().heal());
  }

  private static Injection cut(ChaosCluster cluster, BrokerNode broker, Cut what) throws Exception {
    cluster.cut(broker, what);
    return injection(
        "cut " + broker.name() + " from " + what.name().toLowerCase(Locale.ROOT),
        () -> cluster.heal(broker, what));
  }

  @FunctionalInterface
  private interface Action {
    void run() throws Exception;
  }

  private static Injection injection(String detail, Action heal) {
    return new Injection() {
      @Override
      public String detail() {
        return detail;
      }

      @Override
      public void heal() throws Exception {
        heal.run();
      }
    };
  }
}
