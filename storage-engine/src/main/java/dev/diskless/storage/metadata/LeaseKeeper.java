package dev.diskless.storage.metadata;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this broker's lease renewed and answers, conservatively, whether it still holds it.
 *
 * <p>Clock assumptions, written down because fencing depends on them: the lease expiry is computed
 * by PostgreSQL ({@code now() + lease}) when it receives a renewal, which is after this broker sent
 * it. The broker counts its lease from the moment it <em>sent</em> the renewal, on its monotonic
 * clock, and gives it up {@code margin} early and allowing for its clock running up to {@code
 * maxDrift} (a fraction) slower than the database's. So as long as the two clocks' rates differ by
 * less than {@code maxDrift}, the broker stops acting before the database lets anyone take over.
 * Wall-clock jumps on either side do not matter: only rates do. A process paused (GC, SIGSTOP) past
 * its lease finds {@link #holds()} false when it wakes, before it acknowledges anything.
 *
 * <p>Renewals run every quarter of the lease (every half second while the database does not answer)
 * and each attempt is abandoned after a quarter lease, so a stalled database or a stuck connection
 * costs one attempt, never the lease: when the database answers again within the lease, the next
 * attempt renews it. The registry passed in should sit on a pool of its own ({@link
 * MetadataStore#dedicated}). Once a renewal finds the lease expired or taken over, this
 * registration is over for good ({@link #lost()}); listeners hear it once, and the broker registers
 * anew.
 */
public final class LeaseKeeper implements LeaseGuard, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);
  private static final long RETRY_MS = 500;

  private final BrokerRegistry registry;
  private final BrokerRegistration registration;
  private final Duration lease;
  private final double maxDrift;
  private final Duration margin;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lease-keeper").daemon().factory());
  private final List<Consumer<LeaseRenewal>> lostListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> reachableAgainListeners = new CopyOnWriteArrayList<>();

  /** Renewals in a row that got no answer; touched only by the renewal thread. */
  private int unanswered;

  private volatile long validUntilNanos;
  private volatile LeaseRenewal lost;

  /**
   * @param registeredAtNanos {@link System#nanoTime()} taken just before the registration request
   *     was sent
   */
  public LeaseKeeper(
      BrokerRegistry registry,
      BrokerRegistration registration,
      Duration lease,
      long registeredAtNanos,
      double maxDrift,
      Duration margin) {
    this.registry = registry;
    this.registration = registration;
    this.lease = lease;
    this.maxDrift = maxDrift;
    this.margin = margin;
    this.validUntilNanos = deadline(registeredAtNanos);
  }

  /** How often renewals run, and how long each may take: three may fail within one lease. */
  public Duration renewalInterval() {
    return Duration.ofMillis(Math.max(1, lease.toMillis() / 4));
  }

  /**
   * Renews every {@link #renewalInterval()}; after a renewal that got no answer, every half second
   * (at most the interval) instead, so that a database back from an outage is noticed at once
   * without renewing more often while all is well.
   */
  public LeaseKeeper start() {
    scheduler.schedule(this::tick, renewalInterval().toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void tick() {
    long started = System.nanoTime();
    renewNow();
    if (lost != null || scheduler.isShutdown()) {
      return;
    }
    long interval = renewalInterval().toMillis();
    long next = unanswered > 0 ? Math.min(interval, RETRY_MS) : interval;
    long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    try {
      scheduler.schedule(this::tick, Math.max(0, next - elapsed), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // Closed meanwhile.
    }
  }

  /**
   * Called once, on the renewal thread, when the lease turns out to be lost; must not block for
   * long.
   */
  public LeaseKeeper onLost(Consumer<LeaseRenewal> listener) {
    lostListeners.add(listener);
    return this;
  }

  /**
   * Called on the renewal thread when the database answers again after at least two renewals in a
   * row got no answer (half a lease or more without it): other connections to it may be waiting out
   * a reconnection backoff. Must not block for long.
   */
  public LeaseKeeper onReachableAgain(Runnable listener) {
    reachableAgainListeners.add(listener);
    return this;
  }

  /** Renews once, now, waiting at most one renewal interval. */
  public void renewNow() {
    if (lost != null) {
      return;
    }
    long sent = System.nanoTime();
    LeaseRenewal outcome;
    try {
      outcome =
          registry
              .renew(registration, lease)
              .get(renewalInterval().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      unanswered++;
      LOG.warn(
          "node={} epoch={} lease renewal got no answer within {} ms; {}",
          registration.nodeId(),
          registration.brokerEpoch(),
          renewalInterval().toMillis(),
          remaining());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      unanswered++;
      LOG.warn(
          "node={} epoch={} lease renewal failed: {}; {}",
          registration.nodeId(),
          registration.brokerEpoch(),
          dev.diskless.storage.StorageException.unwrap(e).getMessage(),
          remaining());
      return;
    }
    if (unanswered >= 2) {
      LOG.info(
          "node={} epoch={} metadata database answers again after {} failed renewals",
          registration.nodeId(),
          registration.brokerEpoch(),
          unanswered);
      reachableAgainListeners.forEach(LeaseKeeper::runQuietly);
    }
    unanswered = 0;
    if (outcome.renewed()) {
      validUntilNanos = deadline(sent);
      return;
    }
    lost = outcome;
    LOG.error(
        "node={} epoch={} lease {}: {}",
        registration.nodeId(),
        registration.brokerEpoch(),
        outcome.outcome() == LeaseRenewal.Outcome.EXPIRED ? "expired" : "taken over",
        outcome.detail());
    for (Consumer<LeaseRenewal> l : lostListeners) {
      try {
        l.accept(outcome);
      } catch (RuntimeException e) {
        LOG.warn("node={} lease-lost listener failed: {}", registration.nodeId(), e.toString());
      }
    }
  }

  private static void runQuietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("lease listener failed: {}", e.toString());
    }
  }

  private String remaining() {
    long left = validUntilNanos - System.nanoTime();
    return left > 0
        ? "the lease still holds for " + TimeUnit.NANOSECONDS.toMillis(left) + " ms"
        : "acting on the lease stopped " + TimeUnit.NANOSECONDS.toMillis(-left) + " ms ago";
  }

  private long deadline(long sentNanos) {
    return sentNanos + (long) (lease.toNanos() * (1.0 - maxDrift)) - margin.toNanos();
  }

  @Override
  public boolean holds() {
    return lost == null && System.nanoTime() - validUntilNanos < 0;
  }

  /** Whether a renewal found the lease expired or taken over: this registration is over. */
  public boolean lost() {
    return lost != null;
  }

  public BrokerRegistration registration() {
    return registration;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
