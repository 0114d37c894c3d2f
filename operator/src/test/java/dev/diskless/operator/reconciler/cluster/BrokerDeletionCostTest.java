package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Reading a broker's owned-partitions gauge from its Prometheus exposition. */
class BrokerDeletionCostTest {

  @Test
  void theGaugeIsReadWithOrWithoutTags() {
    assertThat(
            BrokerDeletionCost.ownedPartitions(
                """
                # HELP diskless_partitions_owned
                # TYPE diskless_partitions_owned gauge
                diskless_partitions_owned{node="2"} 17.0
                diskless_partitions_owned_other 99.0
                """))
        .isEqualTo(OptionalLong.of(17));
    assertThat(BrokerDeletionCost.ownedPartitions("diskless_partitions_owned 3.0\n"))
        .isEqualTo(OptionalLong.of(3));
    assertThat(BrokerDeletionCost.ownedPartitions("jvm_threads_live 40.0\n")).isEmpty();
    assertThat(BrokerDeletionCost.ownedPartitions("diskless_partitions_owned NaN\n")).isEmpty();
  }
}
