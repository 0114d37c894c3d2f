package dev.diskless.storage.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LocatedEntryTest {

  private static LocatedEntry entry(long offset, String key, long position, int size) {
    return new LocatedEntry(new IndexEntry(offset, offset, 0, 1, key, position, size), false, 1000);
  }

  @Test
  void aRunIsTheEntriesThatContinueEachOtherInOneObject() {
    List<LocatedEntry> found =
        List.of(
            entry(0, "a", 100, 10),
            entry(1, "a", 110, 20),
            entry(2, "a", 130, 5),
            // A gap: the bytes between belong to another partition (or are dead).
            entry(3, "a", 200, 10),
            // The next object, starting where the last one ended in its own.
            entry(4, "b", 210, 10),
            entry(5, "b", 220, 10));

    List<LocatedEntry> runs = LocatedEntry.withRuns(found);

    assertThat(runs)
        .extracting(LocatedEntry::entry)
        .containsExactlyElementsOf(found.stream().map(LocatedEntry::entry).toList());
    assertThat(runs)
        .extracting(e -> e.runStart() + "-" + e.runEnd())
        .containsExactly("100-135", "100-135", "100-135", "200-210", "210-230", "210-230");
  }

  @Test
  void withoutALookUpNoRunIsKnown() {
    LocatedEntry e = entry(0, "a", 100, 10);
    assertThat(e.runEnd() - e.runStart()).isZero();
  }
}
