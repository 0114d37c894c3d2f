package dev.diskless.kube;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the control plane's binaries: a directory given by the caller or {@code DISKLESS_KUBE_BIN},
 * else {@code e2e/kube/build-control-plane.sh}, which returns at once when its cache is current and
 * otherwise builds from source through the Go module proxy (minutes, once per machine), and prints
 * the directory last.
 */
public final class ControlPlaneBinaries {

  private ControlPlaneBinaries() {}

  /**
   * @param repo the repository root (for the script)
   * @param components the binaries needed, space-separated, as the script takes them
   * @param configured a directory to use instead, or null/blank (Maven passes "${...}" when unset)
   */
  public static Path locate(Path repo, String components, String configured)
      throws IOException, InterruptedException {
    if (configured == null || configured.isBlank() || configured.startsWith("${")) {
      configured = System.getenv("DISKLESS_KUBE_BIN");
    }
    Path bin;
    if (configured != null && !configured.isBlank()) {
      bin = Path.of(configured);
    } else {
      Path script = repo.resolve("e2e/kube/build-control-plane.sh");
      ProcessBuilder pb =
          new ProcessBuilder(script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
      pb.environment().put("DISKLESS_KUBE_COMPONENTS", components);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (p.waitFor() != 0) {
        throw new IOException(script + " failed (exit " + p.exitValue() + ")");
      }
      bin = Path.of(out.substring(out.lastIndexOf('\n') + 1));
    }
    for (String c : components.split("\\s+")) {
      if (!Files.isExecutable(bin.resolve(c))) {
        throw new IOException(
            "no "
                + c
                + " in "
                + bin
                + ": run e2e/kube/build-control-plane.sh or set DISKLESS_KUBE_BIN");
      }
    }
    return bin;
  }
}
