package dev.diskless.e2e.chaos;

import dev.diskless.e2e.kube.PreloadShim;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker's wall clock, shiftable while it runs: the process starts with {@code
 * wallclock-shift.so} preloaded (built here from the C source in this module's resources), which
 * adds the nanoseconds in an 8-byte file of its own to every wall-clock read. The monotonic clock
 * stays true, as with a real NTP step.
 */
final class FakeClock {

  private static final Logger LOG = LoggerFactory.getLogger(FakeClock.class);

  private final Path library;
  private final Path shiftFile;

  FakeClock(Path library, Path shiftFile) throws IOException {
    this.library = library;
    this.shiftFile = shiftFile;
    step(0);
  }

  /**
   * Builds the preload library into {@code dir} with the machine's C compiler; null if it has none
   * (the clock-jump class is then skipped).
   */
  static Path build(Path dir) {
    try (InputStream in = FakeClock.class.getResourceAsStream("/chaos/wallclock-shift.c")) {
      String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return PreloadShim.compile(dir, "wallclock-shift", source);
    } catch (IOException e) {
      LOG.warn("no clock shim, clock jumps are skipped: {}", e.getMessage());
      return null;
    }
  }

  /** What the broker's environment needs for this clock. */
  Map<String, String> environment() {
    return Map.of(
        "LD_PRELOAD",
        library.toString(),
        "WALLCLOCK_SHIFT_FILE",
        shiftFile.toAbsolutePath().toString());
  }

  /** Sets the clock to true time plus {@code seconds}, at once. */
  void step(long seconds) throws IOException {
    ByteBuffer shift =
        ByteBuffer.allocate(Long.BYTES)
            .order(ByteOrder.nativeOrder())
            .putLong(TimeUnit.SECONDS.toNanos(seconds))
            .flip();
    // Rewritten in place: the broker maps this file and reads it on every wall-clock read.
    try (FileChannel f =
        FileChannel.open(shiftFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      f.write(shift, 0);
    }
  }
}
