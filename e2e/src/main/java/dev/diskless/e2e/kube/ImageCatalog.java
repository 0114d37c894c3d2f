package dev.diskless.e2e.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Stands in for a container registry and runtime: an image name maps to one of this repository's
 * Dockerfiles, read for what running the image means — its ENTRYPOINT and CMD, and its COPY lines,
 * which say where the built artifacts (jars) sit inside the image. A "root file system" of symbolic
 * links to those artifacts lets a command name its in-image paths; {@link Image#hostPath}
 * translates them. The base image is assumed to be a JRE: {@code java} is this JVM's, and a {@code
 * RUN} step in exec form that runs {@code java} (training an AOT cache, say) runs at build time
 * with its in-image paths translated, its output landing in the root file system; other RUN steps
 * change the OS image (users, packages), which a process on this machine has no use for. Images are
 * built once, in the background from {@link #prepare()} or on first use.
 */
public final class ImageCatalog {

  /** A runnable image: its entrypoint and default arguments, and its files. */
  public record Image(String name, List<String> entrypoint, List<String> cmd, Path rootfs) {

    /**
     * An in-image absolute path as a host path, when the image has that file; also the value of a
     * JVM option naming one ({@code -XX:AOTCache=/opt/...}).
     */
    public String hostPath(String arg) {
      return translate(arg, rootfs, false);
    }
  }

  /**
   * Translates {@code arg}, a path or {@code -option=path}, into {@code rootfs}: always when {@code
   * creating} (a build step's output, whose parent directories are made) and the path's top-level
   * directory is in the image, else only when the file exists there.
   */
  private static String translate(String arg, Path rootfs, boolean creating) {
    int eq = arg.startsWith("-") ? arg.indexOf('=') : -1;
    String prefix = eq >= 0 ? arg.substring(0, eq + 1) : "";
    String path = arg.substring(prefix.length());
    if (!path.startsWith("/") || path.length() == 1) {
      return arg;
    }
    Path inImage = rootfs.resolve(path.substring(1));
    if (Files.exists(inImage)) {
      return prefix + inImage;
    }
    Path top = rootfs.resolve(Path.of(path.substring(1)).getName(0));
    if (creating && Files.isDirectory(top) && !path.endsWith("/")) {
      try {
        Files.createDirectories(inImage.getParent());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return prefix + inImage;
    }
    return arg;
  }

  private final Path work;
  private final Map<String, Path> dockerfiles = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Image>> images = new ConcurrentHashMap<>();

  public ImageCatalog(Path work) {
    this.work = work;
  }

  /**
   * Registers {@code repository} (any tag) as built from {@code dockerfile}, context its folder.
   */
  public ImageCatalog with(String repository, Path dockerfile) {
    dockerfiles.put(repository, dockerfile.toAbsolutePath().normalize());
    return this;
  }

  /**
   * Starts building every registered image in the background, so that a slow build step (the
   * broker's AOT training) overlaps the control plane's start instead of delaying a pod.
   */
  public ImageCatalog prepare() {
    dockerfiles.keySet().forEach(this::image);
    return this;
  }

  private CompletableFuture<Image> image(String repository) {
    return images.computeIfAbsent(
        repository,
        r -> {
          CompletableFuture<Image> built = new CompletableFuture<>();
          Thread.ofVirtual()
              .name("image-build-" + r)
              .start(
                  () -> {
                    try {
                      built.complete(build(r, dockerfiles.get(r)));
                    } catch (Exception | Error e) {
                      built.completeExceptionally(e);
                    }
                  });
          return built;
        });
  }

  /** The image for a pod's image reference ({@code repo:tag} or {@code repo@digest}). */
  public Image resolve(String reference) throws IOException {
    String repository = reference;
    int at = repository.indexOf('@');
    if (at >= 0) {
      repository = repository.substring(0, at);
    }
    int colon = repository.lastIndexOf(':');
    if (colon > repository.lastIndexOf('/')) {
      repository = repository.substring(0, colon);
    }
    Path dockerfile = dockerfiles.get(repository);
    if (dockerfile == null) {
      throw new IOException(
          "image "
              + reference
              + " is not one this node can run (known: "
              + dockerfiles.keySet()
              + ")");
    }
    try {
      return image(repository).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while building image " + reference, e);
    } catch (ExecutionException e) {
      throw new IOException(
          "image " + reference + " could not be built: " + e.getCause().getMessage(), e.getCause());
    }
  }

  private Image build(String repository, Path dockerfile) throws IOException {
    Path context = dockerfile.getParent();
    Path rootfs = work.resolve("images").resolve(repository.replace('/', '_')).resolve("rootfs");
    Files.createDirectories(rootfs);
    List<String> entrypoint = List.of();
    List<String> cmd = List.of();
    int step = 0;
    for (String line : instructions(Files.readAllLines(dockerfile))) {
      String[] parts = line.split("\\s+", 2);
      String op = parts[0].toUpperCase();
      String rest = parts.length > 1 ? parts[1].trim() : "";
      step++;
      switch (op) {
        case "ENTRYPOINT" -> entrypoint = jsonArray(rest, dockerfile);
        case "CMD" -> cmd = jsonArray(rest, dockerfile);
        case "COPY", "ADD" -> copy(rest, context, rootfs, dockerfile);
        case "RUN" -> {
          if (rest.startsWith("[") && jsonArray(rest, dockerfile).get(0).equals("java")) {
            runJava(jsonArray(rest, dockerfile), rootfs, step, dockerfile);
          }
          // Shell-form steps change the OS image: nothing a process needs here.
        }
        default -> {
          // FROM (a JRE), USER, EXPOSE, ENV...: nothing a process needs here.
        }
      }
    }
    if (entrypoint.isEmpty() && cmd.isEmpty()) {
      throw new IOException(dockerfile + " has neither ENTRYPOINT nor CMD");
    }
    return new Image(repository, entrypoint, cmd, rootfs);
  }

  /**
   * Runs a {@code java} build step with this JVM, its in-image paths translated; its log is kept
   * beside the root file system, and a failure fails the build, as in {@code docker build}.
   */
  private static void runJava(List<String> args, Path rootfs, int step, Path dockerfile)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    for (String a : args.subList(1, args.size())) {
      command.add(translate(a, rootfs, true));
    }
    Path dir = Files.createDirectories(rootfs.resolveSibling("build-step-" + step));
    Path log = dir.resolve("output.log");
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().put("HOME", dir.toString());
    Process process = pb.start();
    try {
      if (!process.waitFor(10, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new IOException(dockerfile + ": RUN step " + step + " took over 10 minutes");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted in RUN step " + step + " of " + dockerfile, e);
    }
    if (process.exitValue() != 0) {
      List<String> lines = Files.readAllLines(log);
      throw new IOException(
          dockerfile
              + ": RUN step "
              + step
              + " exited "
              + process.exitValue()
              + "; last output:\n"
              + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
    }
  }

  /** Joins continuation lines and drops comments. */
  private static List<String> instructions(List<String> lines) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String raw : lines) {
      String line = raw.strip();
      if (current.isEmpty() && (line.isEmpty() || line.startsWith("#"))) {
        continue;
      }
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      current.append(line);
      out.add(current.toString());
      current.setLength(0);
    }
    return out;
  }

  private static List<String> jsonArray(String value, Path dockerfile) throws IOException {
    String v = value.trim();
    if (!v.startsWith("[") || !v.endsWith("]")) {
      throw new IOException(dockerfile + ": only the exec (JSON array) form is supported: " + v);
    }
    List<String> out = new ArrayList<>();
    for (String item : v.substring(1, v.length() - 1).split(",")) {
      String s = item.trim();
      if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
        out.add(s.substring(1, s.length() - 1));
      } else if (!s.isEmpty()) {
        throw new IOException(dockerfile + ": not a JSON string: " + s);
      }
    }
    return out;
  }

  /** COPY [--chown=...] src... dst, as links in the root file system. */
  private static void copy(String rest, Path context, Path rootfs, Path dockerfile)
      throws IOException {
    List<String> args = new ArrayList<>();
    for (String a : rest.split("\\s+")) {
      if (!a.startsWith("--")) {
        args.add(a);
      }
    }
    String dst = args.remove(args.size() - 1);
    Path target = rootfs.resolve(dst.substring(1));
    for (String src : args) {
      List<Path> sources = new ArrayList<>();
      if (src.contains("*")) {
        Path dir = context.resolve(src.substring(0, src.lastIndexOf('/') + 1));
        String glob = src.substring(src.lastIndexOf('/') + 1);
        if (Files.isDirectory(dir)) {
          try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            ds.forEach(sources::add);
          }
        }
      } else {
        sources.add(context.resolve(src));
      }
      if (sources.isEmpty() || !sources.stream().allMatch(Files::exists)) {
        throw new IOException(
            dockerfile + ": COPY source " + src + " is missing; build it first (mvn package)");
      }
      for (Path s : sources) {
        Path link;
        if (Files.isDirectory(s) || dst.endsWith("/")) {
          link = Files.isDirectory(s) ? target : target.resolve(s.getFileName().toString());
        } else {
          link = target;
        }
        Files.createDirectories(link.getParent());
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, s.toAbsolutePath().normalize());
      }
    }
  }
}
