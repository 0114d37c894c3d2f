package dev.diskless.storage.metadata;

/**
 * Settings every broker session asks PostgreSQL for, so that a broker which vanishes (kill -9, a
 * lost node or zone) cannot hold row locks: its packets stop, no FIN or RST ever reaches the
 * server, and without these the server keeps the session — and the locks of its open transaction on
 * partition rows — until the operating system's keepalive gives up (two hours by default), blocking
 * every failover of those partitions. The server drops a session idle inside a transaction for
 * {@link #IDLE_IN_TRANSACTION_MS} (no broker transaction waits that long between statements), and
 * probes a silent client after 5 s, every 2 s, 3 times.
 */
final class ServerSessionSettings {

  /** Longer than any pause between statements of one broker transaction, shorter than a lease. */
  static final long IDLE_IN_TRANSACTION_MS = 8_000;

  /** The pgjdbc {@code options} value, with {@code extra} settings appended. */
  static String options(String extra) {
    String base =
        "-c idle_in_transaction_session_timeout="
            + IDLE_IN_TRANSACTION_MS
            + " -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3";
    return extra.isEmpty() ? base : base + " " + extra;
  }

  private ServerSessionSettings() {}
}
