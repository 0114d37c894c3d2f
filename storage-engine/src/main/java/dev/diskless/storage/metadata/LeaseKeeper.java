package dev.diskless.storage.metadata;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 */
public final class LeaseKeeper implements LeaseGuard, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);

  private final BrokerRegistry registry;
  private final BrokerRegistration registration;
  private final Duration lease;
  private final double maxDrift;
  private final Duration margin;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lease-keeper").daemon().factory());
  private volatile long validUntilNanos;
  private volatile boolean lost;

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

  /** Renews every third of the lease, so two renewals may fail before the lease runs out. */
  public LeaseKeeper start() {
    long every = Math.max(1, lease.toMillis() / 3);
    scheduler.scheduleWithFixedDelay(this::renewNow, every, every, TimeUnit.MILLISECONDS);
    return this;
  }

  /** Renews once, now. */
  public void renewNow() {
    if (lost) {
      return;
    }
    long sent = System.nanoTime();
    try {
      registry.renew(registration, lease).get(lease.toMillis(), TimeUnit.MILLISECONDS);
      validUntilNanos = deadline(sent);
    } catch (Exception e) {
      if (dev.diskless.storage.StorageException.unwrap(e)
              instanceof dev.diskless.storage.StorageException se
          && se.kind() == dev.diskless.storage.StorageException.Kind.NOT_OWNER) {
        lost = true;
        LOG.error(
            "node={} lease lost: another broker holds node id {}",
            registration.nodeId(),
            registration.nodeId());
      } else {
        LOG.warn("node={} lease renewal failed: {}", registration.nodeId(), e.toString());
      }
    }
  }

  private long deadline(long sentNanos) {
    return sentNanos + (long) (lease.toNanos() * (1.0 - maxDrift)) - margin.toNanos();
  }

  @Override
  public boolean holds() {
    return !lost && System.nanoTime() - validUntilNanos < 0;
  }

  public BrokerRegistration registration() {
    return registration;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
