package dev.diskless.broker.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FailedLoginsTest {

  private static final Duration BASE = Duration.ofMillis(100);

  @Test
  void repeatedFailuresFromOneAddressWaitLongerUpToFiveSeconds() throws Exception {
    FailedLogins logins = new FailedLogins();
    InetAddress guesser = InetAddress.getByName("10.0.0.1");
    InetAddress other = InetAddress.getByName("10.0.0.2");
    long now = 1_000_000;
    // A client retrying a wrong password a few times keeps Kafka's delay.
    for (int i = 0; i < FailedLogins.FREE_FAILURES; i++) {
      assertThat(logins.failed(guesser, BASE, now + i)).isEqualTo(BASE);
    }
    assertThat(logins.failed(guesser, BASE, now + 100)).isEqualTo(Duration.ofMillis(200));
    assertThat(logins.failed(guesser, BASE, now + 110)).isEqualTo(Duration.ofMillis(400));
    // Another address is not slowed by the first one's failures.
    assertThat(logins.failed(other, BASE, now + 120)).isEqualTo(BASE);
    Duration last = Duration.ZERO;
    for (int i = 0; i < 40; i++) {
      last = logins.failed(guesser, BASE, now + 200 + i);
    }
    assertThat(last).isEqualTo(FailedLogins.MAX_DELAY);
    // A quiet minute forgets it.
    assertThat(logins.failed(guesser, BASE, now + 200_000)).isEqualTo(BASE);
  }
}
