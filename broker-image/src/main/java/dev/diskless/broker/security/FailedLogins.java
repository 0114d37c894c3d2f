package dev.diskless.broker.security;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Recent failed SASL logins per client address, to slow down password guessing from one place: each
 * failure within a minute of the previous one from the same address doubles the delay before the
 * failure is answered, from the base delay (Kafka's 100 ms) up to 5 s. A quiet minute forgets the
 * address. Bounded: past 10,000 addresses the oldest quiet ones are dropped.
 */
final class FailedLogins {

  static final Duration MAX_DELAY = Duration.ofSeconds(5);
  private static final long MEMORY_MS = 60_000;
  private static final int MAX_ADDRESSES = 10_000;

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
                    : new Recent(Math.min(old.failures() + 1, 30), nowMs));
    if (recent.size() > MAX_ADDRESSES) {
      recent.entrySet().removeIf(e -> nowMs - e.getValue().lastMs() > MEMORY_MS);
      if (recent.size() > MAX_ADDRESSES) {
        recent.clear();
      }
    }
    long delay = base.toMillis() << Math.min(r.failures() - 1, 20);
    return Duration.ofMillis(Math.min(delay, Math.max(base.toMillis(), MAX_DELAY.toMillis())));
  }
}
