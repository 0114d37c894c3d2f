package dev.diskless.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Keeps resources that live inside a Kafka cluster (users, topics) in step with their custom
 * resources, on threads of its own: the Admin API calls wait on the network, which the reconcile
 * thread must not. A reconcile reads the last outcome for the resource's current spec ({@link
 * #latest}) and starts a sync when there is none, the spec changed, or the last is older than
 * {@link #RESYNC} (so that what was changed behind the operator's back is put back); an outcome
 * that differs from the last asks for a reconcile ({@link #onChange}). A sync that did not bring
 * the resource in step is tried again sooner, after {@link #retryDelay} (5 s, doubling up to {@link
 * #RESYNC}), so that a cluster still starting or a broker briefly unreachable costs seconds, not a
 * minute. {@link #delete} removes what the resource made, for its finalizer.
 *
 * @param <R> the custom resource
 */
public abstract class AdminSync<R extends CustomResource<?, ?>> {

  /** What the last sync did, as a Ready condition reports it. */
  public record Outcome(boolean ready, String reason, String message) {}

  public static final Duration RESYNC = Duration.ofSeconds(60);

  static final Duration FIRST_RETRY = Duration.ofSeconds(5);

  private static final Logger LOG = Logger.getLogger(AdminSync.class);

  private static final class Entry<R> {
    String inputs;
    R resource;
    Outcome outcome;
    Instant syncedAt;
    int failures;
    boolean running;
    Outcome deletion;
    boolean deleting;
  }

  private final ExecutorService executor;
  private final ScheduledExecutorService retries;
  private final Map<ResourceID, Entry<R>> entries = new ConcurrentHashMap<>();
  private final KubernetesSerialization json = new KubernetesSerialization();
  private volatile Consumer<ResourceID> onChange = id -> {};

  protected AdminSync(String threadName) {
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, threadName + "-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.retries =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, threadName + "-retry");
              t.setDaemon(true);
              return t;
            });
  }

  /** How long after its {@code failures}-th failure in a row a sync is tried again. */
  static Duration retryDelay(int failures) {
    if (failures <= 0) {
      return RESYNC;
    }
    Duration delay = FIRST_RETRY.multipliedBy(1L << Math.min(failures - 1, 10));
    return delay.compareTo(RESYNC) < 0 ? delay : RESYNC;
  }

  /** Brings the cluster in step with {@code resource}; blocking, on a sync thread. */
  protected abstract Outcome apply(ResourceID id, R resource);

  /** Removes from the cluster what {@code resource} made; blocking, on a sync thread. */
  protected abstract Outcome remove(ResourceID id, R resource);

  /**
   * The Ready condition for {@code outcome}, keeping the last transition time of {@code previous}
   * conditions while status and reason stay the same.
   */
  public static Condition readyCondition(
      List<Condition> previous, Outcome outcome, Long generation) {
    Condition before =
        previous == null
            ? null
            : previous.stream().filter(c -> "Ready".equals(c.getType())).findFirst().orElse(null);
    String status = outcome.ready() ? "True" : "False";
    boolean unchanged =
        before != null
            && status.equals(before.getStatus())
            && outcome.reason().equals(before.getReason());
    return new ConditionBuilder()
        .withType("Ready")
        .withStatus(status)
        .withReason(outcome.reason())
        .withMessage(outcome.message())
        .withObservedGeneration(generation)
        .withLastTransitionTime(
            unchanged ? before.getLastTransitionTime() : Instant.now().toString())
        .build();
  }

  /** Whether two condition lists say the same (transition times aside). */
  public static boolean sameConditions(List<Condition> a, List<Condition> b) {
    if (a == null || a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      Condition x = a.get(i);
      Condition y = b.get(i);
      if (!Objects.equals(x.getType(), y.getType())
          || !Objects.equals(x.getStatus(), y.getStatus())
          || !Objects.equals(x.getReason(), y.getReason())
          || !Objects.equals(x.getMessage(), y.getMessage())) {
        return false;
      }
    }
    return true;
  }

  /** Called with a resource whose outcome changed, to reconcile it. */
  public void onChange(Consumer<ResourceID> trigger) {
    this.onChange = trigger;
  }

  /** The last outcome for the resource's current spec, without waiting; starts a sync when due. */
  public Optional<Outcome> latest(R resource) {
    ResourceID id = ResourceID.fromResource(resource);
    String inputs = json.asJson(resource.getSpec());
    Entry<R> e = entries.computeIfAbsent(id, k -> new Entry<>());
    boolean start;
    Outcome out;
    synchronized (e) {
      if (!inputs.equals(e.inputs)) {
        e.inputs = inputs;
        e.outcome = null;
        e.syncedAt = null;
        e.failures = 0;
      }
      e.resource = resource;
      out = e.outcome;
      boolean due =
          e.syncedAt == null || !Instant.now().isBefore(e.syncedAt.plus(retryDelay(e.failures)));
      start = due && !e.running && !e.deleting;
      if (start) {
        e.running = true;
      }
    }
    if (start) {
      executor.execute(() -> sync(id, e));
    }
    return Optional.ofNullable(out);
  }

  /** Removes what the resource made; empty until done (then the finalizer may go). */
  public Optional<Outcome> delete(R resource) {
    ResourceID id = ResourceID.fromResource(resource);
    Entry<R> e = entries.computeIfAbsent(id, k -> new Entry<>());
    boolean start;
    Outcome out;
    synchronized (e) {
      e.resource = resource;
      out = e.deletion;
      start = !e.deleting && (out == null || !out.ready());
      if (start) {
        e.deleting = true;
      }
    }
    if (out != null && out.ready()) {
      entries.remove(id);
      return Optional.of(out);
    }
    if (start) {
      executor.execute(() -> removal(id, e));
    }
    return Optional.ofNullable(out);
  }

  /** Stops the sync threads (the operator is stopping). */
  public void stop() {
    executor.shutdownNow();
    retries.shutdownNow();
  }

  private void sync(ResourceID id, Entry<R> e) {
    R resource;
    String inputs;
    synchronized (e) {
      resource = e.resource;
      inputs = e.inputs;
    }
    Outcome outcome;
    try {
      outcome = apply(id, resource);
    } catch (RuntimeException failure) {
      outcome = new Outcome(false, "SyncFailed", failure.toString());
    }
    boolean changed;
    synchronized (e) {
      e.running = false;
      if (!inputs.equals(e.inputs)) {
        // The spec changed meanwhile: the next reconcile starts a sync of the new one.
        changed = true;
      } else {
        changed = !outcome.equals(e.outcome);
        e.outcome = outcome;
        e.syncedAt = Instant.now();
        e.failures = outcome.ready() ? 0 : e.failures + 1;
      }
    }
    if (!outcome.ready()) {
      LOG.warnf(
          "%s %s/%s not in step with its cluster: %s",
          resource.getKind(), id.getNamespace().orElse(""), id.getName(), outcome.message());
    }
    if (changed) {
      onChange.accept(id);
    }
    if (!outcome.ready()) {
      // The reconciler looks again only every half minute; ask for a reconcile when the retry is
      // due, which starts it.
      int failures;
      synchronized (e) {
        failures = e.failures;
      }
      retries.schedule(
          () -> onChange.accept(id), retryDelay(failures).toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void removal(ResourceID id, Entry<R> e) {
    R resource;
    synchronized (e) {
      resource = e.resource;
    }
    Outcome outcome;
    try {
      outcome = remove(id, resource);
    } catch (RuntimeException failure) {
      outcome = new Outcome(false, "SyncFailed", failure.toString());
    }
    synchronized (e) {
      e.deleting = false;
      e.deletion = outcome;
    }
    onChange.accept(id);
  }
}
