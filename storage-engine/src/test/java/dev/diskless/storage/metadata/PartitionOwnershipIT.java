package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.StorageHarness;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Acquiring partitions on a real PostgreSQL. */
class PartitionOwnershipIT {

  private StorageHarness h;

  @BeforeEach
  void start() {
    h = StorageHarness.start();
  }

  @AfterEach
  void stop() {
    h.close();
  }

  /**
   * A topic's creator and the controller both see a new partition without an owner and both pick
   * the same broker: one acquire wins at epoch 1, the other is refused instead of bumping the epoch
   * to 2 (which made the owner open the partition twice).
   */
  @Test
  void twoAssignersOfANewPartitionMakeOneOwnerAtOneEpoch() {
    BrokerRegistration a = h.register("a");
    TopicPartitionId tp = StorageHarness.tp(h.topic("new", 1), 0);

    PartitionMetadata first = h.ownership.acquire(tp, a.nodeId(), 0).join();
    assertThat(first.leaderEpoch()).isEqualTo(1);

    assertThatThrownBy(() -> h.ownership.acquire(tp, a.nodeId(), 0).join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOfSatisfying(
            StorageException.class,
            e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.NOT_OWNER))
        .hasMessageContaining("expected epoch 0");
    assertThat(h.epoch(tp)).isEqualTo(1);

    // Without a seen epoch the owner may take its partition again (a restarted broker fencing its
    // earlier self), and with the current one too.
    assertThat(h.ownership.acquire(tp, a.nodeId()).join().leaderEpoch()).isEqualTo(2);
    assertThat(h.ownership.acquire(tp, a.nodeId(), 2).join().leaderEpoch()).isEqualTo(3);
  }
}
