package dev.diskless.storage.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.batch.RecordBatchHeader;
import dev.diskless.storage.batch.RecordBatches;
import dev.diskless.storage.metadata.ProducerBatch;
import dev.diskless.storage.testing.TestBatches;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IdempotenceCheckTest {

  private static final long PID = 42L;

  private final Map<Long, ProducerEntry> producers = new HashMap<>();

  @Test
  void aProducerUnknownToThePartitionIsAcceptedAtAnySequenceAndThenContinuesFromIt() {
    IdempotenceCheck.Result first = check(batch((short) 3, 166, 2));
    assertThat(first.duplicate()).isEmpty();
    ProducerEntry staged = first.staged().get(PID);
    assertThat(staged.epoch).isEqualTo((short) 3);
    assertThat(staged.lastSequence()).isEqualTo(167);
    install(first);

    install(check(batch((short) 3, 168, 1)));
    assertThat(producers.get(PID).lastSequence()).isEqualTo(168);
    assertOutOfOrder(batch((short) 3, 170, 1));
    // A retry of the first batch is still recognised as a duplicate.
    assertThat(check(batch((short) 3, 166, 2)).duplicate()).isPresent();
  }

  @Test
  void aKnownProducerMustStartANewEpochAtZero() {
    install(check(batch((short) 0, 0, 5)));
    assertOutOfOrder(batch((short) 1, 5, 1));
    IdempotenceCheck.Result bumped = check(batch((short) 1, 0, 1));
    assertThat(bumped.staged().get(PID).epoch).isEqualTo((short) 1);
  }

  @Test
  void aKnownProducerWithAGapIsOutOfOrderAndAnOlderEpochIsRejected() {
    install(check(batch((short) 2, 0, 2)));
    assertOutOfOrder(batch((short) 2, 3, 1));
    assertThatThrownBy(() -> check(batch((short) 1, 2, 1)))
        .isInstanceOfSatisfying(
            StorageException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.INVALID_PRODUCER_EPOCH));
  }

  @Test
  void aProducerLoadedFromMetadataContinuesFromItsStoredSequence() {
    // As after a reopen: state restored from a snapshot, with the last batch at 166..167.
    ArrayDeque<ProducerEntry.Recent> recent = new ArrayDeque<>();
    recent.add(
        new ProducerEntry.Recent(
            new ProducerBatch(166, 167, 10, 11),
            java.util.concurrent.CompletableFuture.completedFuture(null)));
    producers.put(PID, new ProducerEntry(PID, (short) 3, 0, recent));
    assertOutOfOrder(batch((short) 3, 169, 1));
    assertThat(check(batch((short) 3, 168, 1)).staged().get(PID).lastSequence()).isEqualTo(168);
  }

  @Test
  void afterATakeOverAnUnknownProducerMustStartAtZeroOfAnyEpoch() {
    // Batch 0 may still be on its way from the previous owner: batch 1 must not overtake it.
    assertOutOfOrderAfterTakeOver(batch((short) 0, 1, 1));
    assertThat(producers).isEmpty();
    IdempotenceCheck.Result first = checkAfterTakeOver(batch((short) 0, 0, 1));
    assertThat(first.staged().get(PID).lastSequence()).isZero();
    install(first);
    assertThat(checkAfterTakeOver(batch((short) 0, 1, 1)).staged().get(PID).lastSequence())
        .isEqualTo(1);

    // A producer whose state is gone bumps its epoch and starts again at 0.
    producers.clear();
    assertOutOfOrderAfterTakeOver(batch((short) 3, 166, 2));
    assertThat(checkAfterTakeOver(batch((short) 4, 0, 2)).staged().get(PID).epoch)
        .isEqualTo((short) 4);
  }

  @Test
  void afterATakeOverAKnownProducerFollowsTheUsualRules() {
    ArrayDeque<ProducerEntry.Recent> recent = new ArrayDeque<>();
    recent.add(
        new ProducerEntry.Recent(
            new ProducerBatch(166, 167, 10, 11),
            java.util.concurrent.CompletableFuture.completedFuture(null)));
    producers.put(PID, new ProducerEntry(PID, (short) 3, 0, recent));
    assertThat(checkAfterTakeOver(batch((short) 3, 168, 1)).staged().get(PID).lastSequence())
        .isEqualTo(168);
    assertThat(checkAfterTakeOver(batch((short) 3, 166, 2)).duplicate()).isPresent();
  }

  @Test
  void onlyARecentTakeOverHoldsUnknownProducersToZero() {
    long opened = 1_000_000_000L;
    long window = OwnedPartition.TAKE_OVER_WINDOW.toNanos();
    OwnedPartition takenOver = new OwnedPartition(null, 2, 0, 0, true, opened);
    assertThat(takenOver.unknownProducersStartAtZero(opened)).isTrue();
    assertThat(takenOver.unknownProducersStartAtZero(opened + window - 1)).isTrue();
    assertThat(takenOver.unknownProducersStartAtZero(opened + window)).isFalse();
    OwnedPartition created = new OwnedPartition(null, 1, 0, 0, false, opened);
    assertThat(created.unknownProducersStartAtZero(opened)).isFalse();
  }

  private IdempotenceCheck.Result check(RecordBatchHeader header) {
    return IdempotenceCheck.check(producers, List.of(header), List.of(), false, false);
  }

  private IdempotenceCheck.Result checkAfterTakeOver(RecordBatchHeader header) {
    return IdempotenceCheck.check(producers, List.of(header), List.of(), true, false);
  }

  private void assertOutOfOrderAfterTakeOver(RecordBatchHeader header) {
    assertThatThrownBy(() -> checkAfterTakeOver(header))
        .isInstanceOfSatisfying(
            StorageException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.OUT_OF_ORDER_SEQUENCE));
  }

  private void install(IdempotenceCheck.Result result) {
    producers.putAll(result.staged());
  }

  private void assertOutOfOrder(RecordBatchHeader header) {
    assertThatThrownBy(() -> check(header))
        .isInstanceOfSatisfying(
            StorageException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.OUT_OF_ORDER_SEQUENCE));
  }

  private static RecordBatchHeader batch(short epoch, int baseSequence, int records) {
    String[] values = new String[records];
    for (int i = 0; i < records; i++) {
      values[i] = "v" + (baseSequence + i);
    }
    ByteBuffer buffer = TestBatches.idempotent(PID, epoch, baseSequence, values);
    return RecordBatches.validate(buffer, Integer.MAX_VALUE).get(0);
  }
}
