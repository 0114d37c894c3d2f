package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BrokerZonesTest {

  private static final List<String> ABC = List.of("a", "b", "c");

  @Test
  void theFirstZonesTakeTheRemainder() {
    assertThat(BrokerZones.split(ABC, 3)).containsExactly(e("a", 1), e("b", 1), e("c", 1));
    assertThat(BrokerZones.split(ABC, 4)).containsExactly(e("a", 2), e("b", 1), e("c", 1));
    assertThat(BrokerZones.split(ABC, 5)).containsExactly(e("a", 2), e("b", 2), e("c", 1));
    assertThat(BrokerZones.split(List.of("c", "a"), 3)).containsExactly(e("c", 2), e("a", 1));
  }

  @Test
  void eachStepByOneChangesOneZoneAndKeepsThemEven() {
    for (int n = 3; n < 40; n++) {
      Map<String, Integer> before = BrokerZones.split(ABC, n);
      Map<String, Integer> after = BrokerZones.split(ABC, n + 1);
      int changed = 0;
      for (String z : ABC) {
        int d = after.get(z) - before.get(z);
        assertThat(d).isBetween(0, 1);
        changed += d;
        if (d == 1) {
          // Scale-out adds to a zone with the fewest; scale-in (read backwards) removes from one
          // with the most.
          assertThat(before.get(z)).isEqualTo(before.values().stream().min(Integer::compare).get());
        }
      }
      assertThat(changed).isEqualTo(1);
      int max = after.values().stream().max(Integer::compare).get();
      int min = after.values().stream().min(Integer::compare).get();
      assertThat(max - min).isLessThanOrEqualTo(1);
      assertThat(after.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(n + 1);
    }
  }

  @Test
  void nothingToSplitOverIsRefused() {
    assertThatThrownBy(() -> BrokerZones.split(List.of(), 3)).hasMessageContaining("no zones");
  }

  private static Map.Entry<String, Integer> e(String k, int v) {
    return Map.entry(k, v);
  }
}
