package dev.diskless.e2e.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Everything the workload did and saw during one run of one fault class, as
 * ../shared/RELIABILITY.md describes the history a checker reads: each send's invocation and
 * outcome, each poll's records, each consumer's assignment changes, the group's committed offsets
 * as observed, each transaction's values and outcome, the faults' injection and healing, and a
 * final read of every partition. Times are nanoseconds from the monotonic clock. Values are unique
 * per run. Thread-safe; events keep the order they were added.
 */
public final class ChaosHistory {

  /** One event of the history. */
  public sealed interface Event {
    long at();
  }

  /** A send was invoked. */
  public record Invoke(long at, String value, int partition) implements Event {}

  /** A send was acknowledged at {@code offset}. */
  public record Ok(long at, String value, int partition, long offset) implements Event {}

  /** A send failed; with {@code definite} false it may still have been written. */
  public record Fail(long at, String value, int partition, boolean definite, String error)
      implements Event {}

  /** How a transaction ended, as its producer learned it. */
  public enum Outcome {
    /** {@code commitTransaction} returned. */
    COMMITTED,
    /** {@code abortTransaction} returned. */
    ABORTED,
    /** Neither returned: the producer was closed and the broker decided (all or nothing). */
    UNKNOWN
  }

  /**
   * A transaction of a transactional producer ended; its values were each invoked (and
   * acknowledged, if they were appended) before this event.
   */
  public record Txn(long at, String id, List<String> values, Outcome outcome) implements Event {}

  /** A keyed send to the compacted topic was invoked. */
  public record KeyedInvoke(long at, String key, String value, int partition) implements Event {}

  /** A keyed send to the compacted topic was acknowledged at {@code offset}. */
  public record KeyedOk(long at, String value, int partition, long offset) implements Event {}

  /** A record of the final read of the compacted topic. */
  public record KeyedFinal(long at, int partition, long offset, String key, String value)
      implements Event {}

  /** The final read of the compacted topic ended: it reached the end, or gave up. */
  public record KeyedFinalDone(long at, boolean complete) implements Event {}

  /**
   * A bad client's poison batch (valid CRC, contents no consumer can read) got this answer: any
   * error but 0 is right.
   */
  public record Poison(long at, String kind, int partition, short errorCode, long baseOffset)
      implements Event {}

  /**
   * A generation of the topic-recreate class's topic: created, written, read back and deleted;
   * {@code problem} says what it read wrong (records of an earlier generation, gaps), or is null.
   */
  public record Recreated(long at, String topic, int generation, String problem) implements Event {}

  /** A record returned by a consumer's poll. */
  public record Read(long at, String consumer, int partition, long offset, String value)
      implements Event {}

  /**
   * A consumer's assignment changed (or it started over, or seeked): its next read of these
   * partitions may be anywhere.
   */
  public record Assign(long at, String consumer, Set<Integer> partitions) implements Event {}

  /** The group's committed offsets as an observer saw them. */
  public record Committed(long at, Map<Integer, Long> offsets) implements Event {}

  /** A fault was injected. */
  public record Injected(long at, String fault) implements Event {}

  /** A fault was healed. */
  public record Healed(long at, String fault) implements Event {}

  /**
   * Before the final read: whether every transaction had ended (last stable offset = high watermark
   * everywhere) within a minute of the producers stopping.
   */
  public record Stable(long at, boolean stable) implements Event {}

  /** A record of the final read, which read every partition from its start to its end. */
  public record Final(long at, int partition, long offset, String value) implements Event {}

  /** The final read ended: it reached the end of every partition, or gave up. */
  public record FinalDone(long at, boolean complete) implements Event {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Event> events = new ArrayList<>();

  public synchronized void add(Event e) {
    events.add(e);
  }

  /** A snapshot of the events so far. */
  public synchronized List<Event> events() {
    return List.copyOf(events);
  }

  /** The whole history as one JSON object per line, kept for a failing run. */
  public void write(Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Event e : events()) {
        w.write(json(e));
        w.write('\n');
      }
    }
  }

  private static String json(Event e) {
    ObjectNode node = JSON.valueToTree(e);
    node.put("type", e.getClass().getSimpleName().toLowerCase(Locale.ROOT));
    return node.toString();
  }
}
