package dev.diskless.broker.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs kcat (librdkafka, a different Kafka client implementation) as a process. .ci/run installs
 * kcat and sets DISKLESS_REQUIRE_KCAT, so in CI a missing kcat fails the tests that use it.
 */
public final class Kcat {

  private Kcat() {}

  /** What the process printed and how it ended (-1: it could not start or timed out). */
  public record Result(int exitCode, String out, String err) {}

  /**
   * Whether kcat runs here; asserts that it does when CI requires it, so callers only need {@code
   * assumeTrue} on the answer.
   */
  public static boolean available() throws InterruptedException {
    boolean present = run(List.of("kcat", "-V"), null).exitCode() == 0;
    if (System.getenv("DISKLESS_REQUIRE_KCAT") != null) {
      assertThat(present).as("kcat must be installed (apt-get install kcat)").isTrue();
    }
    return present;
  }

  /** Runs {@code command} with {@code stdin} (if not null) as its input, for at most 60 s. */
  public static Result run(List<String> command, String stdin) throws InterruptedException {
    try {
      // Output goes to files, so it is complete even when the process has to be killed.
      java.nio.file.Path out = java.nio.file.Files.createTempFile("kcat", ".out");
      java.nio.file.Path err = java.nio.file.Files.createTempFile("kcat", ".err");
      try {
        Process p =
            new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (stdin != null) {
          p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        boolean exited = p.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String stdout = java.nio.file.Files.readString(out);
        String stderr = java.nio.file.Files.readString(err);
        return exited
            ? new Result(p.exitValue(), stdout, stderr)
            : new Result(-1, stdout, "timed out; stderr: " + stderr);
      } finally {
        java.nio.file.Files.deleteIfExists(out);
        java.nio.file.Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      return new Result(-1, "", e.toString());
    }
  }
}
