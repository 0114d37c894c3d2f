package dev.diskless.broker.handler;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps an idempotent producer's batches to a partition in order across transient refusals. A batch
 * refused with a retriable error (its topic not yet in this broker's view, its partition not yet
 * opened here, a WAL flush that failed) is retried by the client, but the producer's next batches
 * are already in flight. For a producer the partition holds no state for, the storage engine takes
 * any first sequence (as Kafka does, so a producer survives its topic being re-created) unless the
 * partition was taken over recently; a later batch would be taken, and the retried one then refused
 * as out of order for as long as the client retries — a producer stuck until its delivery timeout.
 * (What another broker refused before a hand-over is the storage engine's to handle: see its {@code
 * IdempotenceCheck}.) Kafka rarely meets this because a broker works on one request per connection
 * at a time; this one pipelines them, and its view of topics and owners lags by up to one ownership
 * pass.
 *
 * <p>So after a retriable refusal, later sequences of that producer to that partition are refused
 * too (NOT_LEADER_OR_FOLLOWER, retriable: the client refreshes metadata and resends in order) while
 * the partition holds no state for the producer, until the refused sequence is appended here, the
 * producer moves to a newer epoch, or the entry expires.
 */
final class ProduceOrderGuard {

  /** A producer's batches to one partition; {@code topic} is the request's topic id or name. */
  record Key(Object topic, int partition, long producerId) {}

  private record Refused(short epoch, int sequence, long atNanos) {}

  /**
   * Longer than a client's default delivery timeout (2 min): a refused batch is given up by then.
   */
  private static final long EXPIRY_NANOS = 150_000_000_000L;

  /** Bounds memory under a flood of refusals; the oldest entries are not worth keeping then. */
  private static final int MAX_ENTRIES = 100_000;

  private final Map<Key, Refused> refused = new ConcurrentHashMap<>();

  /** A batch with {@code baseSequence} of {@code epoch} was refused with a retriable error. */
  void refused(Key key, short epoch, int baseSequence) {
    long now = System.nanoTime();
    if (refused.size() >= MAX_ENTRIES) {
      refused.values().removeIf(r -> now - r.atNanos() > EXPIRY_NANOS);
      if (refused.size() >= MAX_ENTRIES) {
        refused.clear();
      }
    }
    refused.merge(
        key,
        new Refused(epoch, baseSequence, now),
        (old, fresh) ->
            old.epoch() == fresh.epoch()
                    && old.sequence() <= fresh.sequence()
                    && now - old.atNanos() <= EXPIRY_NANOS
                ? old
                : fresh);
  }

  /**
   * Why a batch must wait for an earlier, refused one of its producer; empty if it may go ahead.
   */
  Optional<String> blocked(Key key, short epoch, int baseSequence) {
    Refused r = refused.get(key);
    if (r == null) {
      return Optional.empty();
    }
    if (System.nanoTime() - r.atNanos() > EXPIRY_NANOS || epoch > r.epoch()) {
      refused.remove(key, r);
      return Optional.empty();
    }
    if (epoch < r.epoch() || baseSequence <= r.sequence()) {
      // An older epoch is the storage engine's to refuse; an equal or lower sequence is the retry.
      return Optional.empty();
    }
    return Optional.of(
        "sequence "
            + r.sequence()
            + " of producer "
            + key.producerId()
            + " was refused here and has not been retried yet; sequence "
            + baseSequence
            + " must not overtake it");
  }

  /** Drops what is known of {@code key}: the partition's own sequence rules order it now. */
  void forget(Key key) {
    refused.remove(key);
  }

  /** A batch was appended (or recognised as a duplicate). */
  void appended(Key key, short epoch, int baseSequence) {
    Refused r = refused.get(key);
    if (r != null && (epoch > r.epoch() || (epoch == r.epoch() && baseSequence <= r.sequence()))) {
      refused.remove(key, r);
    }
  }
}
