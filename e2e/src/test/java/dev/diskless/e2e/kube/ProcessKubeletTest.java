package dev.diskless.e2e.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What the process kubelet writes into API objects. */
class ProcessKubeletTest {

  @Test
  void timesOnAWholeMinuteStillCarryTheirSeconds() {
    // The API server refused "2026-12-03T15:16Z" in a node status: Kubernetes wants the seconds.
    assertThat(ProcessKubelet.rfc3339(Instant.parse("2026-12-03T15:16:00.123456Z")))
        .isEqualTo("2026-12-03T15:16:00Z");
    assertThat(ProcessKubelet.rfc3339(Instant.parse("2026-12-03T15:16:42Z")))
        .isEqualTo("2026-12-03T15:16:42Z");
  }
}
