package dev.diskless.e2e.kube;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds a small C library meant for {@code LD_PRELOAD} with the machine's C compiler: the e2e
 * processes' way to change one libc call of a process they start (the loopback pod network's bind,
 * the chaos harness's wall clock) without touching the program.
 */
public final class PreloadShim {

  private PreloadShim() {}

  /**
   * Compiles {@code source} into {@code dir/lib<name>.so} and returns its absolute path; fails with
   * the compiler's output if there is no compiler or the source does not build.
   */
  public static Path compile(Path dir, String name, String source) throws IOException {
    Path file = dir.resolve(name + ".c");
    Path library = dir.resolve("lib" + name + ".so");
    Files.writeString(file, source);
    Process cc =
        new ProcessBuilder(
                "cc", "-shared", "-fPIC", "-O2", "-o", library.toString(), file.toString(), "-ldl")
            .redirectErrorStream(true)
            .start();
    try {
      String out = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (cc.waitFor() != 0) {
        throw new IOException("compiling " + file + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return library.toAbsolutePath();
  }
}
