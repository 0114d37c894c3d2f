package dev.diskless.e2e.kube;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stands in for a container registry and runtime: an image name maps to one of this repository's
 * Dockerfiles, read for what running the image means — its ENTRYPOINT and CMD, and its COPY lines,
 * which say where the built artifacts (jars) sit inside the image. A "root file system" of symbolic
 * links to those artifacts lets a command name its in-image paths; {@link #hostPath} translates
 * them. The base image is assumed to be a JRE: {@code java} is this JVM's.
 */
public final class ImageCatalog {

  /** A runnable image: its entrypoint and default arguments, and its files. */
  public record Image(String name, List<String> entrypoint, List<String> cmd, Path rootfs) {

    /** An in-image absolute path as a host path, when the image has that file. */
    public String hostPath(String path) {
      if (path.startsWith("/") && Files.exists(rootfs.resolve(path.substring(1)))) {
        return rootfs.resolve(path.substring(1)).toString();
      }
      return path;
    }
  }

  private final Path work;
  private final Map<String, Path> dockerfiles = new ConcurrentHashMap<>();
  private final Map<String, Image> images = new ConcurrentHashMap<>();

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
    String repo = repository;
    try {
      return images.computeIfAbsent(
          repository,
          r -> {
            try {
              return build(repo, dockerfile);
            } catch (IOException e) {
              throw new IllegalStateException(e.getMessage(), e);
            }
          });
    } catch (IllegalStateException e) {
      throw new IOException(e.getMessage(), e.getCause());
    }
  }

  private Image build(String repository, Path dockerfile) throws IOException {
    Path context = dockerfile.getParent();
    Path rootfs = work.resolve("images").resolve(repository.replace('/', '_')).resolve("rootfs");
    Files.createDirectories(rootfs);
    List<String> entrypoint = List.of();
    List<String> cmd = List.of();
    for (String line : instructions(Files.readAllLines(dockerfile))) {
      String[] parts = line.split("\\s+", 2);
      String op = parts[0].toUpperCase();
      String rest = parts.length > 1 ? parts[1].trim() : "";
      switch (op) {
        case "ENTRYPOINT" -> entrypoint = jsonArray(rest, dockerfile);
        case "CMD" -> cmd = jsonArray(rest, dockerfile);
        case "COPY", "ADD" -> copy(rest, context, rootfs, dockerfile);
        default -> {
          // FROM (a JRE), RUN, USER, EXPOSE, ENV...: nothing a process needs here.
        }
      }
    }
    if (entrypoint.isEmpty() && cmd.isEmpty()) {
      throw new IOException(dockerfile + " has neither ENTRYPOINT nor CMD");
    }
    return new Image(repository, entrypoint, cmd, rootfs);
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
