package dev.diskless.e2e.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class HostNumbersTest {

  @Test
  void aReleasedNumberIsHandedOutAgainOnlyAfterTheRestOfTheRange() throws IOException {
    HostNumbers hosts = new HostNumbers();
    assertThat(hosts.take()).isEqualTo(2);
    assertThat(hosts.take()).isEqualTo(3);
    hosts.release(2);
    assertThat(hosts.take()).isEqualTo(4);
    for (int n = 5; n <= 254; n++) {
      assertThat(hosts.take()).isEqualTo(n);
    }
    // At the end of the range it wraps to the lowest free number.
    assertThat(hosts.take()).isEqualTo(2);
    assertThatThrownBy(hosts::take).hasMessageContaining("full");
    hosts.release(100);
    assertThat(hosts.take()).isEqualTo(100);
  }
}
