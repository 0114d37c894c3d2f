package dev.diskless.storage.log;

import static dev.diskless.storage.log.PartitionLogsIT.append;
import static dev.diskless.storage.log.PartitionLogsIT.assertKind;
import static dev.diskless.storage.testing.StorageHarness.tp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.AbortedTransaction;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.testing.StorageHarness;
import dev.diskless.storage.testing.TestBatches;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transactions in the log, as a partition's owner keeps them for a transaction coordinator:
 * transactional batches open a transaction, markers end it, the last stable offset stops at the
 * oldest open one, read_committed reads stop there and carry the aborted transactions, and all of
 * it moves with the partition to a new owner.
 */
class TransactionalLogIT {

  private static final long P1 = 1001;
  private static final long P2 = 1002;
  private static final short E0 = 0;

  private StorageHarness h;

  @BeforeEach
  void start() {
    h = StorageHarness.start();
  }

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void theLastStableOffsetStopsAtTheOldestOpenTransactionUntilItsMarkerCommits() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topic("txn", 1);
    TopicPartitionId tp = tp(topic, 0);
    h.own(engine, topic);
    int epoch = h.epoch(tp);

    append(engine, tp, epoch, TestBatches.transactional(P1, E0, 0, "a1", "a2")); // 0..1
    append(engine, tp, epoch, TestBatches.values("plain")); // 2
    append(engine, tp, epoch, TestBatches.transactional(P2, E0, 0, "b1")); // 3
    assertThat(engine.logs().lastStableOffset(tp)).hasValue(0);
    assertThat(engine.reader().readCommitted(tp, 0, 1 << 20).join().isEmpty()).isTrue();
    assertThat(TestBatches.read(engine.reader().read(tp, 0, 1 << 20).join().records())).hasSize(4);

    append(engine, tp, epoch, TestBatches.marker(P1, E0, 1, true)); // 4
    assertThat(engine.logs().lastStableOffset(tp)).hasValue(3);
    ReadResult committed = engine.reader().readCommitted(tp, 0, 1 << 20).join();
    assertThat(committed.lastStableOffset()).isEqualTo(3);
    assertThat(offsets(committed.records())).containsExactly(0L, 1L, 2L);
    assertThat(committed.abortedTransactions()).isEmpty();
    // A broker that does not own the partition (a read replica) sees the same from metadata.
    StorageEngine replica = h.engine(h.register("replica").nodeId());
    ReadResult remote = replica.reader().readCommitted(tp, 0, 1 << 20).join();
    assertThat(remote.lastStableOffset()).isEqualTo(3);
    assertThat(offsets(remote.records())).containsExactly(0L, 1L, 2L);

    append(engine, tp, epoch, TestBatches.marker(P2, E0, 1, false)); // 5
    assertThat(engine.logs().lastStableOffset(tp)).hasValue(6);
    committed = engine.reader().readCommitted(tp, 0, 1 << 20).join();
    assertThat(offsets(committed.records())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
    assertThat(committed.abortedTransactions()).containsExactly(new AbortedTransaction(P2, 3, 5));
    remote = replica.reader().readCommitted(tp, 0, 1 << 20).join();
    assertThat(offsets(remote.records())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
    assertThat(remote.abortedTransactions()).containsExactly(new AbortedTransaction(P2, 3, 5));
    // A fetch past the aborted transaction's marker does not need it.
    assertThat(engine.reader().readCommitted(tp, 6, 1 << 20).join().abortedTransactions())
        .isEmpty();
  }

  @Test
  void markersAndProducersAreFencedAsKafkaFencesThem() {
    StorageEngine engine = h.engine(h.register("a").nodeId());
    TopicInfo topic = h.topic("fence", 1);
    TopicPartitionId tp = tp(topic, 0);
    h.own(engine, topic);
    int epoch = h.epoch(tp);

    append(engine, tp, epoch, TestBatches.transactional(P1, E0, 0, "a1"));
    append(engine, tp, epoch, TestBatches.marker(P1, (short) 1, 5, false));
    // A coordinator older than the one that wrote the last marker is a zombie.
    assertKind(
        engine.logs().append(tp, epoch, TestBatches.marker(P1, (short) 1, 4, true), opts()),
        Kind.COORDINATOR_FENCED);
    // The abort bumped the producer's epoch: its old epoch is fenced.
    assertKind(
        engine.logs().append(tp, epoch, TestBatches.transactional(P1, E0, 1, "zombie"), opts()),
        Kind.INVALID_PRODUCER_EPOCH);
    assertKind(
        engine.logs().append(tp, epoch, TestBatches.marker(P1, E0, 6, true), opts()),
        Kind.INVALID_PRODUCER_EPOCH);
    // At the new epoch sequences start again at 0.
    assertKind(
        engine.logs().append(tp, epoch, TestBatches.transactional(P1, (short) 1, 1, "gap"), opts()),
        Kind.OUT_OF_ORDER_SEQUENCE);
    append(engine, tp, epoch, TestBatches.transactional(P1, (short) 1, 0, "next"));
    // Plain records while the producer's transaction is open are refused.
    assertKind(
        engine.logs().append(tp, epoch, TestBatches.idempotent(P1, (short) 1, 1, "x"), opts()),
        Kind.INVALID_TXN_STATE);
    // A marker for a transaction that wrote nothing here changes nothing.
    append(engine, tp, epoch, TestBatches.marker(P2, E0, 6, true));
    assertThat(engine.logs().lastStableOffset(tp)).hasValue(2);
  }

  @Test
  void aNewOwnerContinuesWithTheOpenAndAbortedTransactionsOfThePreviousOne() {
    BrokerRegistration a = h.register("a");
    BrokerRegistration b = h.register("b");
    StorageEngine first = h.engine(a.nodeId());
    TopicInfo topic = h.topic("moving", 1);
    TopicPartitionId tp = tp(topic, 0);
    h.own(first, topic);
    int epoch = h.epoch(tp);
    append(first, tp, epoch, TestBatches.transactional(P1, E0, 0, "aborted")); // 0
    append(first, tp, epoch, TestBatches.marker(P1, E0, 1, false)); // 1
    append(first, tp, epoch, TestBatches.transactional(P2, E0, 0, "open")); // 2
    append(first, tp, epoch, TestBatches.values("after")); // 3

    first.logs().handOver(tp, b.nodeId()).join();
    StorageEngine second = h.engine(b.nodeId());
    second.logs().open(tp).join();
    int epoch2 = h.epoch(tp);
    assertThat(second.logs().lastStableOffset(tp)).hasValue(2);
    ReadResult cold = second.reader().readCommitted(tp, 0, 1 << 20).join();
    assertThat(offsets(cold.records())).containsExactly(0L, 1L);
    assertThat(cold.abortedTransactions()).containsExactly(new AbortedTransaction(P1, 0, 1));

    append(second, tp, epoch2, TestBatches.marker(P2, E0, 1, true)); // 4
    assertThat(second.logs().lastStableOffset(tp)).hasValue(5);
    assertThat(offsets(second.reader().readCommitted(tp, 0, 1 << 20).join().records()))
        .containsExactly(0L, 1L, 2L, 3L, 4L);
  }

  private static AppendOptions opts() {
    return AppendOptions.defaults();
  }

  private static List<Long> offsets(ByteBuffer records) {
    return TestBatches.read(records).stream().map(TestBatches.Read::offset).toList();
  }
}
