package dev.diskless.broker.txn;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks for a client's security settings again every {@code periodMs} and hands them on when they
 * changed: renewed certificates (cert-manager rotates them every few weeks) reach a long-lived
 * connection pool without a restart. Settings that cannot be read or applied (a file caught
 * mid-rewrite) are tried again at the next period; the ones in use stay, and the warning is not
 * repeated every period. Called from one thread.
 */
final class SettingsRefresh {

  private static final Logger LOG = LoggerFactory.getLogger(SettingsRefresh.class);

  private final Supplier<Map<String, Object>> settings;
  private final Consumer<Map<String, Object>> apply;
  private final long periodMs;
  private Map<String, Object> current;
  private long nextMs;
  private String lastRefusal;
  private long lastRefusalLoggedMs;
  private int warnings;
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  /** A refusal that stays the same is logged again only this often, not every period. */
  static final long REPEAT_WARNING_MS = 5 * 60_000L;

  SettingsRefresh(
      Map<String, Object> initial,
      Supplier<Map<String, Object>> settings,
      Consumer<Map<String, Object>> apply,
      long periodMs,
      long nowMs) {
    this.current = initial;
    this.settings = settings;
    this.apply = apply;
    this.periodMs = periodMs;
    this.nextMs = nowMs + periodMs;
  }

  /** Reads the settings again if a period has passed, and applies them if they changed. */
  void maybeRefresh(long nowMs) {
    if (nowMs < nextMs) {
      return;
    }
    nextMs = nowMs + periodMs;
    try {
      Map<String, Object> fresh = settings.get();
      if (!fresh.equals(current)) {
        apply.accept(fresh);
        current = fresh;
        applied.incrementAndGet();
        LOG.info("inter-broker client security settings changed (renewed files); applied");
      }
      lastRefusal = null;
    } catch (RuntimeException e) {
      refused.incrementAndGet();
      String refusal = e.toString();
      if (!refusal.equals(lastRefusal) || nowMs - lastRefusalLoggedMs >= REPEAT_WARNING_MS) {
        LOG.warn(
            "inter-broker client security settings not reloaded, kept the ones in use (tried"
                + " again every {} ms, this warning repeated every {} min while it lasts): {}",
            periodMs,
            REPEAT_WARNING_MS / 60_000,
            refusal);
        lastRefusal = refusal;
        lastRefusalLoggedMs = nowMs;
        warnings++;
      }
    }
  }

  /** Changed settings applied so far (read from any thread). */
  AtomicLong applied() {
    return applied;
  }

  /** Settings that could not be read or applied so far, logged or not (read from any thread). */
  AtomicLong refused() {
    return refused;
  }

  /** How many refusals were logged so far. */
  int warnings() {
    return warnings;
  }
}
