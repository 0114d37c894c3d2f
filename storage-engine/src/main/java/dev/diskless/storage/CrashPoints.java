package dev.diskless.storage;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test-only crash points. A process started with {@code DISKLESS_TEST_CRASH_POINT=NAME} (or {@code
 * NAME:N}) halts the first (or N-th) time it reaches the point {@code NAME}, as kill -9 would stop
 * it there: no shutdown hook runs and nothing more is written. Without the variable — always, in
 * production — reaching a point does nothing. Fault tests use it to kill a broker at exactly the
 * step they test rather than hoping a timed kill lands there.
 */
public final class CrashPoints {

  /** The environment variable that arms a point. */
  public static final String ENV = "DISKLESS_TEST_CRASH_POINT";

  /** A WAL object is in the bucket; nothing of it is committed to metadata or acknowledged. */
  public static final String WAL_AFTER_PUT = "wal.after-put";

  /** A WAL object's metadata commit is durable; none of its appends is acknowledged. */
  public static final String WAL_AFTER_COMMIT = "wal.after-commit";

  /** Between a key-compaction run's uploads and its metadata swap. */
  public static final String KEY_COMPACTION_BEFORE_SWAP = "key-compaction.before-swap";

  /** A transaction's PrepareCommit or PrepareAbort is durable; none of its markers is written. */
  public static final String TRANSACTION_AFTER_PREPARE = "transaction.after-prepare";

  /** All of a transaction's markers are written; its CompleteCommit/Abort is not recorded. */
  public static final String TRANSACTION_BEFORE_COMPLETE = "transaction.before-complete";

  private static final Logger LOG = LoggerFactory.getLogger(CrashPoints.class);

  private final Optional<String> armed;
  private final int nth;
  private final AtomicInteger reached = new AtomicInteger();

  private CrashPoints(Optional<String> armed, int nth) {
    this.armed = armed;
    this.nth = nth;
  }

  public static CrashPoints none() {
    return new CrashPoints(Optional.empty(), 1);
  }

  /** The point named by {@link #ENV} in {@code env}, if any. */
  public static CrashPoints fromEnvironment(Map<String, String> env) {
    String spec = env.get(ENV);
    if (spec == null || spec.isBlank()) {
      return none();
    }
    int colon = spec.lastIndexOf(':');
    if (colon < 0) {
      return new CrashPoints(Optional.of(spec.trim()), 1);
    }
    try {
      int nth = Integer.parseInt(spec.substring(colon + 1).trim());
      if (nth < 1) {
        throw new NumberFormatException();
      }
      return new CrashPoints(Optional.of(spec.substring(0, colon).trim()), nth);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(ENV + " must be NAME or NAME:N with N >= 1, got " + spec);
    }
  }

  /** Halts the process if {@code point} is the armed one and this is the time to. */
  public void reach(String point) {
    if (armed.isEmpty() || !armed.get().equals(point)) {
      return;
    }
    int n = reached.incrementAndGet();
    if (n == nth) {
      LOG.error("crash point {} reached (time {}): halting the process", point, n);
      Runtime.getRuntime().halt(137);
    }
  }

  /** Whether a point is armed (the broker logs it at start, so no one runs one by accident). */
  public Optional<String> armed() {
    return armed.map(p -> p + ":" + nth);
  }
}
