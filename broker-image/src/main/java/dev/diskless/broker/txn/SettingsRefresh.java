package dev.diskless.broker.txn;

import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks for a client's security settings again every {@code periodMs} and hands them on when they
 * changed: renewed certificates (cert-manager rotates them every few weeks) reach a long-lived
 * connection pool without a restart. Settings that cannot be read or applied (a file caught
 * mid-rewrite) are tried again at the next period; the ones in use stay. Called from one thread.
 */
final class SettingsRefresh {

  private static final Logger LOG = LoggerFactory.getLogger(SettingsRefresh.class);

  private final Supplier<Map<String, Object>> settings;
  private final Consumer<Map<String, Object>> apply;
  private final long periodMs;
  private Map<String, Object> current;
  private long nextMs;

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
        LOG.info("inter-broker client security settings changed (renewed files); applied");
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "inter-broker client security settings not reloaded, kept the ones in use: {}",
          e.toString());
    }
  }
}
