package dev.diskless.storage.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Deletes what a fixture wrote to a temporary directory (a PostgreSQL data directory, an object
 * store), so that a suite run again and again on one machine does not fill its disk.
 */
public final class ScratchDirectory {

  private ScratchDirectory() {}

  /**
   * Deletes {@code dir} and everything under it. Best effort: a process that has just stopped may
   * still remove its own files, and a tear-down must not fail a test for that.
   */
  public static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      System.err.println("could not delete all of " + dir + ": " + e);
    }
  }
}
