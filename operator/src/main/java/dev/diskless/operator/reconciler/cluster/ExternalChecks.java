package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jboss.logging.Logger;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The checks of what a cluster needs outside Kubernetes (its metadata database and its bucket), run
 * on threads of their own: they wait on the network for seconds (5 s for JDBC, 10 s for S3), which
 * the reconcile thread must not. A reconcile reads the last answer for the cluster's current spec
 * ({@link #latest}); when that is missing or older than {@link #REFRESH} a check starts in the
 * background, and an answer that differs from the last one asks for a reconcile ({@link
 * #onChange}), so that the status follows it. An answer for a spec since changed is dropped and the
 * check runs again. S3 clients are shared by the clusters with the same store and credentials and
 * closed when no cluster uses them any more ({@link SharedClients}).
 */
@ApplicationScoped
public class ExternalChecks {

  /** The answers of both checks, as the conditions BucketReady and MetadataReady report them. */
  public record Results(MetadataCheck.Result metadata, BucketCheck.Result bucket) {}

  /**
   * Runs the checks of one cluster, blocking. {@link #forget} drops what it keeps for a cluster
   * (its S3 client); {@link #close} everything.
   */
  interface Checker {
    Results check(ResourceID id, DisklessKafkaCluster cluster);

    default void forget(ResourceID id) {}

    default void close() {}
  }

  /**
   * An answer older than this is checked again at the next reconcile; less than the reconciler's
   * own recheck period, so that each periodic reconcile starts a check.
   */
  static final Duration REFRESH = Duration.ofSeconds(25);

  private static final Logger LOG = Logger.getLogger(ExternalChecks.class);

  /** What one cluster's checks depend on, the last answer for it, and whether one is running. */
  private static final class Entry {
    String inputs;
    DisklessKafkaCluster cluster;
    Results results;
    Instant checkedAt;
    boolean running;
    boolean forgotten;
  }

  private final Checker checker;
  private final ExecutorService executor;
  private final Clock clock;
  private final Duration refresh;
  private final Map<ResourceID, Entry> entries = new ConcurrentHashMap<>();
  private final KubernetesSerialization json = new KubernetesSerialization();
  private volatile Consumer<ResourceID> onChange = id -> {};

  @Inject
  public ExternalChecks(KubernetesClient client) {
    this(new LiveChecker(client), checkThreads(), Clock.systemUTC(), REFRESH);
  }

  ExternalChecks(Checker checker, ExecutorService executor, Clock clock, Duration refresh) {
    this.checker = checker;
    this.executor = executor;
    this.clock = clock;
    this.refresh = refresh;
  }

  /**
   * A few threads: a check mostly waits, and a few slow stores or databases must not hold up the
   * checks of every other cluster.
   */
  private static ExecutorService checkThreads() {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(
        4,
        r -> {
          Thread t = new Thread(r, "diskless-external-checks-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /** Called with a cluster whose answers changed, to reconcile it. */
  public void onChange(Consumer<ResourceID> trigger) {
    this.onChange = trigger;
  }

  /**
   * The last answer for the cluster's current spec, without waiting: empty until the first check of
   * this spec answered. Starts a check in the background when there is no answer yet or it is older
   * than the refresh period.
   */
  public Optional<Results> latest(DisklessKafkaCluster cluster) {
    ResourceID id = ResourceID.fromResource(cluster);
    String inputs = inputs(cluster);
    Entry e = entries.computeIfAbsent(id, k -> new Entry());
    Results out;
    boolean start;
    synchronized (e) {
      if (!inputs.equals(e.inputs)) {
        // The answer was about another bucket or database: it says nothing about this one.
        e.inputs = inputs;
        e.results = null;
        e.checkedAt = null;
      }
      e.cluster = cluster;
      out = e.results;
      boolean due = e.checkedAt == null || !clock.instant().isBefore(e.checkedAt.plus(refresh));
      start = due && !e.running && !e.forgotten;
      if (start) {
        e.running = true;
      }
    }
    if (start) {
      submit(id, e);
    }
    return Optional.ofNullable(out);
  }

  /** Stops checking the cluster (it is being deleted) and releases its S3 client. */
  public void forget(ResourceID id) {
    Entry e = entries.remove(id);
    if (e != null) {
      synchronized (e) {
        e.forgotten = true;
      }
    }
    checker.forget(id);
  }

  @PreDestroy
  void stop() {
    executor.shutdownNow();
    checker.close();
  }

  private void submit(ResourceID id, Entry e) {
    try {
      executor.execute(() -> run(id, e));
    } catch (java.util.concurrent.RejectedExecutionException stopping) {
      synchronized (e) {
        e.running = false;
      }
    }
  }

  /** One check of one cluster, on a check thread. */
  private void run(ResourceID id, Entry e) {
    String inputs;
    DisklessKafkaCluster cluster;
    synchronized (e) {
      inputs = e.inputs;
      cluster = e.cluster;
    }
    Instant started = clock.instant();
    Results results;
    try {
      results = checker.check(id, cluster);
    } catch (RuntimeException failure) {
      // Whatever broke (the API server refusing the Secret read, ...) is the answer, so that the
      // status says it rather than the last answer staying forever.
      String message = "check failed: " + failure;
      LOG.warnf("cluster=%s/%s %s", id.getNamespace().orElse(""), id.getName(), message);
      results =
          new Results(
              new MetadataCheck.Result(false, "CheckFailed", message),
              new BucketCheck.Result(false, "CheckFailed", message));
    }
    boolean changed = false;
    boolean again = false;
    boolean forgotten;
    synchronized (e) {
      e.running = false;
      forgotten = e.forgotten;
      if (!forgotten) {
        if (inputs.equals(e.inputs)) {
          changed = !Objects.equals(e.results, results);
          e.results = results;
          e.checkedAt = started;
        } else {
          // The spec changed meanwhile: this answer is about the old one; check the new one.
          e.running = true;
          again = true;
        }
      }
    }
    if (forgotten) {
      // The cluster went while its check ran, which may have taken a client for it again.
      checker.forget(id);
    } else if (again) {
      submit(id, e);
    } else if (changed) {
      onChange.accept(id);
    }
  }

  /** What the checks read from the spec: another value means another bucket or database. */
  private String inputs(DisklessKafkaCluster cluster) {
    return cluster.getMetadata().getNamespace()
        + "\n"
        + json.asJson(cluster.getSpec().objectStore)
        + "\n"
        + json.asJson(cluster.getSpec().metadata);
  }

  /**
   * The checks as they run in the operator: the Secrets through the API server, the database over
   * JDBC, the bucket with an S3 client shared by the clusters with the same store and credentials.
   */
  static final class LiveChecker implements Checker {
    private final KubernetesClient client;
    private final SharedClients<ObjectStoreAccess.ClientKey, S3Client> s3Clients =
        new SharedClients<>();

    /**
     * The client each cluster holds, to release it when its credentials change or it goes. Guarded
     * by this checker: a cluster's check and its forget may run at once, and must not both release
     * the same hold.
     */
    private final Map<ResourceID, ObjectStoreAccess.ClientKey> held = new java.util.HashMap<>();

    LiveChecker(KubernetesClient client) {
      this.client = client;
    }

    @Override
    public Results check(ResourceID id, DisklessKafkaCluster cluster) {
      MetadataCheck.Result metadata = MetadataCheck.check(client, cluster);
      ObjectStoreAccess.Credentials credentials = ObjectStoreAccess.credentials(client, cluster);
      if (!credentials.found()) {
        forget(id);
        return new Results(metadata, BucketCheck.noCredentials(credentials));
      }
      S3Client s3 = hold(id, cluster, credentials);
      return new Results(metadata, BucketCheck.check(s3, cluster));
    }

    /** The shared client for the cluster's store and credentials, releasing the one it had. */
    private synchronized S3Client hold(
        ResourceID id, DisklessKafkaCluster cluster, ObjectStoreAccess.Credentials credentials) {
      ObjectStoreAccess.ClientKey key =
          ObjectStoreAccess.ClientKey.of(cluster.getSpec().objectStore, credentials);
      ObjectStoreAccess.ClientKey before = held.get(id);
      if (key.equals(before)) {
        // Still held by this cluster: acquiring again would count it twice.
        S3Client s3 = s3Clients.get(key);
        if (s3 != null) {
          return s3;
        }
        // Closed under it (the operator is stopping): nothing left to release.
        before = null;
      }
      S3Client s3 =
          s3Clients.acquire(
              key, () -> ObjectStoreAccess.build(cluster.getSpec().objectStore, credentials));
      held.put(id, key);
      if (before != null) {
        s3Clients.release(before);
      }
      return s3;
    }

    @Override
    public synchronized void forget(ResourceID id) {
      ObjectStoreAccess.ClientKey key = held.remove(id);
      if (key != null) {
        s3Clients.release(key);
      }
    }

    /** How many S3 clients are open, shared or not. */
    int openS3Clients() {
      return s3Clients.open();
    }

    @Override
    public synchronized void close() {
      held.clear();
      s3Clients.closeAll();
    }
  }
}
