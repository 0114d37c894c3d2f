package dev.diskless.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdminSyncRetryTest {

  @Test
  void aFailedSyncIsRetriedAfterADoublingDelayCappedAtTheResync() {
    assertThat(AdminSync.retryDelay(0)).isEqualTo(AdminSync.RESYNC);
    assertThat(AdminSync.retryDelay(1)).isEqualTo(Duration.ofSeconds(5));
    assertThat(AdminSync.retryDelay(2)).isEqualTo(Duration.ofSeconds(10));
    assertThat(AdminSync.retryDelay(3)).isEqualTo(Duration.ofSeconds(20));
    assertThat(AdminSync.retryDelay(4)).isEqualTo(Duration.ofSeconds(40));
    assertThat(AdminSync.retryDelay(5)).isEqualTo(AdminSync.RESYNC);
    assertThat(AdminSync.retryDelay(500)).isEqualTo(AdminSync.RESYNC);
  }
}
