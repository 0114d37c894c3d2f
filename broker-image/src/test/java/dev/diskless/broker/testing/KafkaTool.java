package dev.diskless.broker.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.internals.Exit;

/**
 * Runs one of Kafka's command-line tools (kafka-tools' {@code main}) in this JVM, as a user runs
 * the shell script: returns what it printed, or throws {@link Exited} when it exits non-zero.
 */
public final class KafkaTool {

  /** A tool's {@code main}. */
  @FunctionalInterface
  public interface Main {
    void run(String[] args) throws Exception;
  }

  /** Thrown instead of a tool's non-zero System.exit, with what it printed. */
  public static final class Exited extends RuntimeException {
    private final int code;

    Exited(int code, String message) {
      super("exit " + code + ": " + message);
      this.code = code;
    }

    public int code() {
      return code;
    }
  }

  private KafkaTool() {}

  /** Tools print to System.out and System.err, so runs are serialized. */
  public static synchronized String run(Main main, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    PrintStream captured = new PrintStream(out, true, StandardCharsets.UTF_8);
    // Exit 0 returns: some tools exit from inside a try that turns any exception into 1.
    Exit.setExitProcedure(
        (code, message) -> {
          if (code != 0) {
            throw new Exited(code, message);
          }
        });
    System.setOut(captured);
    System.setErr(captured);
    try {
      main.run(args);
    } catch (Exited e) {
      throw new Exited(e.code, out.toString(StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw new Exited(1, out.toString(StandardCharsets.UTF_8) + e);
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
      Exit.resetExitProcedure();
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
