package dev.diskless.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Removes the scratch directories that test fixtures create (control planes, pods, object stores).
 * Each run leaves hundreds of megabytes otherwise, and CI machines run the suite again and again.
 */
public final class Directories {

  private Directories() {}

  /**
   * Deletes {@code dir} and everything under it; a path that is already gone is fine. Best effort:
   * a tear-down must not fail a test because a process that just stopped left a file behind, so a
   * failure is reported on stderr, not thrown.
   */
  public static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      // Children before their parents.
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      System.err.println("could not delete all of " + dir + ": " + e);
    }
  }
}
