package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.StorageHarness;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A WAL object's commit on a real PostgreSQL ({@code commit_wal_object}): each partition of one
 * flush is decided on its own, and only what passed is written.
 */
class FlushCommitterIT {

  private StorageHarness h;
  private FlushCommitter committer;

  @BeforeEach
  void start() {
    h = StorageHarness.start();
    committer = new FlushCommitter(h.metadata);
  }

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void commitsThePartitionsThatPassAndLeavesTheOthersUntouched() {
    int node = h.register("a").nodeId();
    TopicInfo topic = h.topic("mixed", 4);
    TopicPartitionId ok = StorageHarness.tp(topic, 0);
    TopicPartitionId stale = StorageHarness.tp(topic, 1);
    TopicPartitionId ahead = StorageHarness.tp(topic, 2);
    TopicPartitionId unowned = StorageHarness.tp(topic, 3);
    TopicPartitionId missing = StorageHarness.tp(topic, 99);
    for (TopicPartitionId tp : List.of(ok, stale, ahead)) {
      h.ownership.acquire(tp, node).join();
    }

    Map<TopicPartitionId, CommitOutcome> outcomes =
        committer.commit(
            "wal/one",
            "WAL",
            1000,
            node,
            List.of(
                commit(ok, 1, 0, 9, 0, 100, 7, true),
                commit(stale, 0, 0, 4, 100, 50, 8, true),
                commit(ahead, 1, 5, 9, 150, 60, 9, false),
                commit(unowned, 1, 0, 4, 210, 70, 10, false),
                commit(missing, 1, 0, 4, 280, 80, 11, false)));

    assertThat(outcomes)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                ok, CommitOutcome.COMMITTED,
                stale, CommitOutcome.FENCED,
                ahead, CommitOutcome.DIVERGED,
                unowned, CommitOutcome.FENCED,
                missing, CommitOutcome.UNKNOWN));
    assertThat(h.queryLong("SELECT live_bytes FROM objects WHERE object_key = 'wal/one'"))
        .isEqualTo(100);
    assertThat(h.queryLong("SELECT size_bytes FROM objects WHERE object_key = 'wal/one'"))
        .isEqualTo(1000);
    assertThat(
            h.queryLong(
                "SELECT count(*) FROM batch_index WHERE object_key = 'wal/one' AND base_offset = 0"
                    + " AND last_offset = 9 AND byte_position = 0 AND byte_size = 100"))
        .isEqualTo(1);
    assertThat(h.queryLong("SELECT count(*) FROM batch_index")).isEqualTo(1);
    assertThat(highWatermarks(topic)).containsExactly(10L, 0L, 0L, 0L);
    assertThat(h.queryLong("SELECT count(*) FROM producer_state")).isEqualTo(1);
    assertThat(h.queryLong("SELECT producer_epoch FROM producer_state WHERE producer_id = 7"))
        .isEqualTo(3);
    assertThat(
            h.queryLong(
                "SELECT count(*) FROM aborted_transactions WHERE producer_id = 7"
                    + " AND first_offset = 2 AND last_offset = 9"))
        .isEqualTo(1);
    assertThat(h.queryLong("SELECT count(*) FROM aborted_transactions")).isEqualTo(1);

    // The next flush of the same producer updates its state; one that commits nothing leaves no
    // object row behind (the orphan sweeper removes the upload).
    assertThat(
            committer.commit(
                "wal/two", "WAL", 500, node, List.of(commit(ok, 1, 10, 14, 0, 40, 7, false))))
        .containsExactlyEntriesOf(Map.of(ok, CommitOutcome.COMMITTED));
    assertThat(h.queryLong("SELECT producer_epoch FROM producer_state WHERE producer_id = 7"))
        .isEqualTo(4);
    assertThat(h.queryLong("SELECT last_timestamp FROM producer_state WHERE producer_id = 7"))
        .isEqualTo(14);
    assertThat(
            committer.commit(
                "wal/three", "WAL", 500, node, List.of(commit(stale, 0, 0, 4, 0, 40, 8, false))))
        .containsExactlyEntriesOf(Map.of(stale, CommitOutcome.FENCED));
    assertThat(h.queryLong("SELECT count(*) FROM objects WHERE object_key = 'wal/three'")).isZero();
    assertThat(highWatermarks(topic)).containsExactly(15L, 0L, 0L, 0L);
  }

  /**
   * One partition's entry at {@code position} of {@code size} bytes, written under {@code epoch},
   * with the state of producer {@code producerId} after it (its epoch, 3 or 4, tells the two
   * flushes apart) and, if {@code aborts}, one transaction of it aborted from offset 2.
   */
  private static PartitionCommit commit(
      TopicPartitionId tp,
      int epoch,
      long base,
      long last,
      long position,
      int size,
      long producerId,
      boolean aborts) {
    short producerEpoch = (short) (base == 0 ? 3 : 4);
    ProducerSnapshot producer =
        new ProducerSnapshot(
            producerId,
            producerEpoch,
            last,
            List.of(new ProducerBatch(0, (int) (last - base), base, last)),
            -1,
            -1);
    return new PartitionCommit(
        tp,
        epoch,
        new IndexEntry(base, last, last, 1, "ignored", position, size),
        List.of(producer),
        aborts ? List.of(new AbortedTransaction(producerId, 2, last)) : List.of());
  }

  private List<Long> highWatermarks(TopicInfo topic) {
    return IntStream.range(0, topic.partitionCount())
        .mapToObj(p -> h.ownership.describe(StorageHarness.tp(topic, p)).join().highWatermark())
        .toList();
  }
}
