package dev.diskless.e2e.kube;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.admin.Admin;

/**
 * A scale-out split into its parts, each a moment after the change (a spec edit, or the
 * autoscaler's decision as its status shows it): the last new broker pod scheduled (PodScheduled),
 * the last new broker registered with the cluster (it appears in the Admin API's describeCluster,
 * which lists a broker once it has started and may be given partitions: JVM started, metadata store
 * reached, lease taken, group coordinator and ownership passes running), the last new broker pod
 * Ready (its readiness probe passed), and the measured topic balanced over all brokers (every
 * broker leads its even share, counts differ by at most one, as the Admin API's describeTopics
 * shows). Registered to balanced is the ownership move alone. Polls every 100 ms with one Admin
 * client; timings are reported, not asserted.
 */
record ScaleOutSplit(
    int brokers,
    int newPods,
    int partitions,
    long scheduledMs,
    long registeredMs,
    long readyMs,
    long balancedMs) {

  /**
   * Waits until the brokers the Deployment asks for ({@code brokers}, read at each poll: an
   * autoscaler may add more meanwhile) are registered, their pods Ready, and {@code topic} is
   * balanced over them; pods first seen after {@code changedAt} (System.nanoTime) are the new ones.
   */
  static ScaleOutSplit measure(
      long changedAt,
      PodMilestones pods,
      Admin admin,
      String topic,
      int partitions,
      IntSupplier brokers,
      Duration timeout) {
    long[] registered = {-1};
    long[] balanced = {-1};
    int[] target = {0};
    await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              int n = brokers.getAsInt();
              if (n != target[0]) {
                // More brokers asked for: their registration and the balance over them count.
                target[0] = n;
                registered[0] = -1;
                balanced[0] = -1;
              }
              long now = System.nanoTime();
              int seen = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
              if (seen < n) {
                registered[0] = -1;
                balanced[0] = -1;
                return false;
              }
              if (registered[0] < 0) {
                registered[0] = now;
              }
              if (balanced[0] < 0 && balanced(admin, topic, n, partitions)) {
                balanced[0] = now;
              }
              List<PodMilestones.Milestones> fresh = fresh(pods, changedAt);
              return balanced[0] >= 0
                  && !fresh.isEmpty()
                  && fresh.stream().allMatch(m -> m.ready().isPresent());
            });
    List<PodMilestones.Milestones> fresh = fresh(pods, changedAt);
    return new ScaleOutSplit(
        target[0],
        fresh.size(),
        partitions,
        millis(changedAt, latest(fresh, PodMilestones.Milestones::scheduled)),
        millis(changedAt, registered[0]),
        millis(changedAt, latest(fresh, PodMilestones.Milestones::ready)),
        millis(changedAt, balanced[0]));
  }

  /** Leaders of the topic's partitions spread over {@code brokers}, counts within one. */
  static boolean balanced(Admin admin, String topic, int brokers, int partitions) throws Exception {
    var d =
        admin.describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(topic);
    Map<Integer, Integer> leaders = new TreeMap<>();
    for (var p : d.partitions()) {
      if (p.leader() != null) {
        leaders.merge(p.leader().id(), 1, Integer::sum);
      }
    }
    return leaders.size() == brokers
        && leaders.values().stream().mapToInt(Integer::intValue).sum() == partitions
        && Collections.max(leaders.values()) - Collections.min(leaders.values()) <= 1;
  }

  private static List<PodMilestones.Milestones> fresh(PodMilestones pods, long changedAt) {
    return pods.pods().values().stream().filter(m -> m.created() > changedAt).toList();
  }

  private static long latest(
      List<PodMilestones.Milestones> pods,
      java.util.function.Function<PodMilestones.Milestones, OptionalLong> milestone) {
    return pods.stream()
        .map(milestone)
        .filter(OptionalLong::isPresent)
        .mapToLong(OptionalLong::getAsLong)
        .max()
        .orElse(-1);
  }

  private static long millis(long from, long to) {
    return to < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(to - from);
  }

  /**
   * The parts as the scenario lines print them. Ready may come after balanced: the controller gives
   * a broker partitions once it registers, its pod turns Ready at the next readiness probe.
   */
  @Override
  public String toString() {
    return String.format(
        "change -> %d new pod(s) scheduled %s; scheduled -> Ready %s (registered after %s);"
            + " Ready -> balanced %s; registered -> %d partitions balanced over %d brokers (the"
            + " ownership move alone) %s; change -> balanced and Ready %s",
        newPods,
        secs(scheduledMs),
        secs(readyMs - scheduledMs),
        secs(registeredMs - scheduledMs),
        secs(balancedMs - readyMs),
        partitions,
        brokers,
        secs(balancedMs - registeredMs),
        secs(Math.max(readyMs, balancedMs)));
  }

  private static String secs(long ms) {
    return String.format("%.1f s", ms / 1000.0);
  }
}
