package dev.diskless.broker.txn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SettingsRefreshTest {

  @Test
  void changedSettingsAreAppliedOncePerPeriodAndAFailedReadKeepsTheOnesInUse() {
    AtomicReference<Object> file = new AtomicReference<>("cert-1");
    List<Map<String, Object>> applied = new ArrayList<>();
    SettingsRefresh refresh =
        new SettingsRefresh(
            Map.of("ssl.keystore.key", "cert-1"),
            () -> {
              if (file.get() instanceof RuntimeException e) {
                throw e;
              }
              return Map.of("ssl.keystore.key", file.get());
            },
            applied::add,
            1_000,
            0);

    refresh.maybeRefresh(999);
    refresh.maybeRefresh(1_000);
    assertThat(applied).as("unchanged settings are not applied").isEmpty();

    file.set("cert-2");
    refresh.maybeRefresh(1_500);
    assertThat(applied).as("not before the period is over").isEmpty();
    refresh.maybeRefresh(2_000);
    assertThat(applied).containsExactly(Map.of("ssl.keystore.key", "cert-2"));
    refresh.maybeRefresh(3_000);
    assertThat(applied).as("applied once").hasSize(1);

    file.set(new IllegalStateException("file caught mid-rewrite"));
    refresh.maybeRefresh(4_000);
    file.set("cert-3");
    refresh.maybeRefresh(5_000);
    assertThat(applied).last().isEqualTo(Map.of("ssl.keystore.key", "cert-3"));
  }

  @Test
  void settingsThatCannotBeAppliedAreTriedAgainAtTheNextPeriod() {
    List<Map<String, Object>> applied = new ArrayList<>();
    boolean[] refuse = {true};
    SettingsRefresh refresh =
        new SettingsRefresh(
            Map.of("k", "old"),
            () -> Map.of("k", "new"),
            s -> {
              if (refuse[0]) {
                throw new IllegalArgumentException("invalid keystore");
              }
              applied.add(s);
            },
            1_000,
            0);
    refresh.maybeRefresh(1_000);
    assertThat(applied).isEmpty();
    refuse[0] = false;
    refresh.maybeRefresh(2_000);
    assertThat(applied).containsExactly(Map.of("k", "new"));
  }

  @Test
  void theSameRefusalIsLoggedOncePerFiveMinutesNotEveryPeriod() {
    String[] refusal = {"expired certificate"};
    SettingsRefresh refresh =
        new SettingsRefresh(
            Map.of("k", "old"),
            () -> {
              throw new IllegalStateException(refusal[0]);
            },
            s -> {},
            5_000,
            0);
    for (long t = 5_000; t < SettingsRefresh.REPEAT_WARNING_MS; t += 5_000) {
      refresh.maybeRefresh(t);
    }
    assertThat(refresh.warnings())
        .as("one warning for five minutes of the same refusal")
        .isEqualTo(1);
    refresh.maybeRefresh(SettingsRefresh.REPEAT_WARNING_MS + 5_000);
    assertThat(refresh.warnings()).as("repeated after five minutes").isEqualTo(2);
    refusal[0] = "key does not match the certificate";
    refresh.maybeRefresh(SettingsRefresh.REPEAT_WARNING_MS + 10_000);
    assertThat(refresh.warnings()).as("a different refusal at once").isEqualTo(3);
  }
}
