package dev.diskless.broker.txn;

import java.util.Map;
import org.apache.kafka.coordinator.transaction.TransactionLogConfig;
import org.apache.kafka.coordinator.transaction.TransactionStateManagerConfig;

/**
 * Kafka's transaction coordinator settings, by their Kafka names and with Kafka's defaults.
 *
 * @param partitions {@code transaction.state.log.num.partitions}: how many coordinator partitions
 *     transactional ids hash onto (fixed once the topic exists)
 * @param maxTimeoutMs {@code transaction.max.timeout.ms}: the longest transaction timeout a
 *     producer may ask for
 * @param abortTimedOutIntervalMs {@code
 *     transaction.abort.timed.out.transaction.cleanup.interval.ms}: how often timed-out
 *     transactions are looked for (and prepared ones left by a previous coordinator finished)
 * @param transactionalIdExpirationMs {@code transactional.id.expiration.ms}: how long an idle
 *     transactional id is kept
 */
public record TransactionCoordinatorConfig(
    int partitions,
    int maxTimeoutMs,
    long abortTimedOutIntervalMs,
    long transactionalIdExpirationMs) {

  public static TransactionCoordinatorConfig from(Map<String, String> settings) {
    return new TransactionCoordinatorConfig(
        intOf(
            settings,
            TransactionLogConfig.TRANSACTIONS_TOPIC_PARTITIONS_CONFIG,
            TransactionLogConfig.TRANSACTIONS_TOPIC_PARTITIONS_DEFAULT),
        intOf(
            settings,
            TransactionStateManagerConfig.TRANSACTIONS_MAX_TIMEOUT_MS_CONFIG,
            TransactionStateManagerConfig.TRANSACTIONS_MAX_TIMEOUT_MS_DEFAULT),
        intOf(
            settings,
            TransactionStateManagerConfig
                .TRANSACTIONS_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS_CONFIG,
            TransactionStateManagerConfig
                .TRANSACTIONS_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS_DEFAULT),
        intOf(
            settings,
            TransactionStateManagerConfig.TRANSACTIONAL_ID_EXPIRATION_MS_CONFIG,
            TransactionStateManagerConfig.TRANSACTIONAL_ID_EXPIRATION_MS_DEFAULT));
  }

  private static int intOf(Map<String, String> settings, String key, int fallback) {
    String v = settings.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      int parsed = Integer.parseInt(v.trim());
      if (parsed <= 0) {
        throw new IllegalArgumentException(key + " must be positive, got " + v);
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, got " + v, e);
    }
  }
}
