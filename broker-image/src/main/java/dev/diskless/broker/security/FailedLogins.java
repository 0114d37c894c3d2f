package dev.diskless.broker.security;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Recent failed SASL logins per client address, to slow down password guessing from one place:
 * beyond 20 failures, each within a minute of the previous one, each further failure from the same
 * address doubles the delay before it is answered, from the base delay (Kafka's 100 ms) up to 5 s.
 * The first 20 keep Kafka's delay, so that a client with a wrong password, which reconnects and
 * fails a few times a second, still hears why before its own timeout. A quiet minute forgets the
 * address. Bounded: past 10,000 addresses the oldest quiet ones are dropped.
 */
final class FailedLogins {

  static final Duration MAX_DELAY = Duration.ofSeconds(5);
  private static final long MEMORY_MS = 60_000;
  private static final int MAX_ADDRESSES = 10_000;

  /** Failures in a row answered after the base delay only. */
  static final int FREE_FAILURES = 20;

  private record Recent(int failures, long lastMs) {}

  private final Map<InetAddress, Recent> recent = new ConcurrentHashMap<>();

  /** Notes a failure from {@code address} and returns how long to wait before answering it. */
  Duration failed(InetAddress address, Duration base, long nowMs) {
    Recent r =
        recent.compute(
            address,
            (a, old) ->
                old == null || nowMs - old.lastMs() > MEMORY_MS
                    ? new Recent(1, nowMs)
                    : new Recent(Math.min(old.failures() + 1, FREE_FAILURES + 30), nowMs));
    if (recent.size() > MAX_ADDRESSES) {
      recent.entrySet().removeIf(e -> nowMs - e.getValue().lastMs() > MEMORY_MS);
      if (recent.size() > MAX_ADDRESSES) {
        recent.clear();
      }
    }
    int over = Math.max(0, r.failures() - FREE_FAILURES);
    long delay = base.toMillis() << Math.min(over, 20);
    return Duration.ofMillis(Math.min(delay, Math.max(base.toMillis(), MAX_DELAY.toMillis())));
  }
}
