package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pod on a {@link ProcessKubelet}: its network namespace and one process per container,
 * restarted when it exits (restartPolicy Always) with a growing back-off; volumes and service
 * account from {@link PodVolumes}, env from {@link ContainerEnv}, readiness from {@link
 * HttpReadinessProbe}, status written to the API server by {@link PodStatusWriter}; on deletion
 * SIGTERM, the grace period, SIGKILL, and the pod object removed.
 */
public final class PodRunner {

  private static final Logger LOG = LoggerFactory.getLogger(PodRunner.class);

  private final ProcessKubelet.NodeContext node;
  private final String namespace;
  private final String name;
  private final Runnable onGone;
  private final Path dir;
  private final DownwardApi downward;
  private volatile Pod pod;
  private volatile PodNetwork.Attachment net;
  private final List<ContainerRun> containers = new ArrayList<>();
  private volatile boolean terminating;
  private volatile String failure;
  private final PodStatusWriter status;

  private PodRunner(ProcessKubelet.NodeContext node, Pod pod, Runnable onGone) {
    this.node = node;
    this.pod = pod;
    this.onGone = onGone;
    this.namespace = pod.getMetadata().getNamespace();
    this.name = pod.getMetadata().getName();
    this.dir =
        node.work()
            .resolve("pods")
            .resolve(namespace + "_" + name + "_" + pod.getMetadata().getUid());
    this.downward = new DownwardApi(pod, node.nodeName(), node.network().nodeAddress(), this::ip);
    this.status = new PodStatusWriter(node, namespace, name);
  }

  static PodRunner start(ProcessKubelet.NodeContext node, Pod pod, Runnable onGone) {
    PodRunner r = new PodRunner(node, pod, onGone);
    Thread.ofVirtual().name("pod-" + r.namespace + "/" + r.name).start(r::run);
    return r;
  }

  /** Removes a pod this node never ran (or no longer runs). */
  static void finishDeletion(ProcessKubelet.NodeContext node, Pod pod) {
    try {
      node.client()
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .withGracePeriod(0)
          .delete();
    } catch (Exception e) {
      LOG.debug("deleting pod {}: {}", pod.getMetadata().getName(), e.toString());
    }
  }

  public String name() {
    return namespace + "/" + name;
  }

  public String ip() {
    PodNetwork.Attachment a = net;
    return a == null ? null : a.ip();
  }

  /** The process id of a container's current process (for tests that kill it). */
  public long pid(String container) {
    for (ContainerRun c : containers) {
      if (c.spec.getName().equals(container) && c.process != null) {
        return c.process.pid();
      }
    }
    throw new IllegalArgumentException("no running container " + container + " in " + name());
  }

  /** The file a container's output goes to, every run of it appended (as {@code kubectl logs}). */
  public Path logFile(String container) {
    return dir.resolve("logs").resolve(container + ".log");
  }

  private void run() {
    try {
      Files.createDirectories(dir.resolve("logs"));
      net = node.network().attach();
      PodVolumes podVolumes = new PodVolumes(node, pod, dir, downward);
      Map<String, Path> volumes = podVolumes.mount();
      Map<String, String> serviceAccountEnv = podVolumes.serviceAccountEnv();
      for (Container c : pod.getSpec().getContainers()) {
        ContainerRun run = new ContainerRun(c, node.images().resolve(c.getImage()));
        run.prepare(volumes, serviceAccountEnv);
        containers.add(run);
      }
      for (ContainerRun c : containers) {
        c.launch();
      }
      LOG.info("pod {} running at {}", name(), net.ip());
    } catch (Exception e) {
      failure = e.getMessage();
      LOG.error("pod {} cannot start: {}", name(), e.toString());
    }
    report();
    while (!terminating) {
      boolean changed = false;
      for (ContainerRun c : containers) {
        changed |= c.tick();
      }
      if (changed) {
        report();
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Graceful deletion: not ready at once, SIGTERM, the grace period, SIGKILL, pod removed. */
  void terminate(Pod deleting) {
    synchronized (this) {
      if (terminating) {
        return;
      }
      terminating = true;
    }
    pod = deleting;
    Long grace = deleting.getMetadata().getDeletionGracePeriodSeconds();
    if (grace == null) {
      grace = deleting.getSpec().getTerminationGracePeriodSeconds();
    }
    long graceSeconds = grace == null ? 30 : grace;
    Thread.ofVirtual()
        .name("stop-" + name())
        .start(
            () -> {
              report();
              long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
              for (ContainerRun c : containers) {
                if (c.process != null) {
                  c.process.destroy();
                }
              }
              for (ContainerRun c : containers) {
                if (c.process == null) {
                  continue;
                }
                try {
                  long left = deadline - System.nanoTime();
                  if (left <= 0 || !c.process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    LOG.warn(
                        "pod {} container {} outlived its grace period: SIGKILL",
                        name(),
                        c.spec.getName());
                    c.process.destroyForcibly().waitFor();
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              release();
              finishDeletion(node, pod);
              LOG.info("pod {} stopped", name());
            });
  }

  /** The node goes away or the pod object vanished: SIGKILL everything. */
  void killNow() {
    terminating = true;
    for (ContainerRun c : containers) {
      if (c.process != null) {
        c.process.destroyForcibly();
      }
    }
    release();
  }

  private synchronized void release() {
    PodNetwork.Attachment a = net;
    if (a != null) {
      node.network().detach(a);
      net = null;
    }
    onGone.run();
  }

  // ---- status ----

  private synchronized void report() {
    try {
      List<ContainerStatus> statuses = new ArrayList<>();
      for (ContainerRun c : containers) {
        statuses.add(c.status());
      }
      boolean allReady = !containers.isEmpty() && containers.stream().allMatch(c -> c.ready);
      PodNetwork.Attachment a = net;
      status.write(pod, statuses, allReady, failure, terminating, a == null ? null : a.ip());
    } catch (Exception e) {
      LOG.debug("status of {}: {}", name(), e.toString());
    }
  }

  // ---- one container ----

  private final class ContainerRun {
    final Container spec;
    final ImageCatalog.Image image;
    List<String> command;
    Map<String, String> env;
    volatile Process process;
    final HttpReadinessProbe readiness;
    volatile boolean ready;
    int restarts;
    Instant startedAt;
    Integer lastExit;
    Instant lastFinished;
    long restartAt;

    ContainerRun(Container spec, ImageCatalog.Image image) {
      this.spec = spec;
      this.image = image;
      this.readiness = new HttpReadinessProbe(spec);
    }

    void prepare(Map<String, Path> volumes, Map<String, String> serviceAccountEnv)
        throws IOException {
      // Mount paths as host paths, longest first so that nested mounts win.
      Map<String, String> mounts =
          new TreeMap<>(Comparator.comparing(String::length).reversed().thenComparing(s -> s));
      for (VolumeMount m : spec.getVolumeMounts()) {
        Path source = volumes.get(m.getName());
        if (source == null) {
          throw new IOException("volume mount " + m.getName() + " has no volume");
        }
        if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
          source = source.resolve(m.getSubPath());
        }
        mounts.put(m.getMountPath(), source.toString());
      }
      env = new LinkedHashMap<>();
      env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
      env.put("HOME", dir.toString());
      env.put("HOSTNAME", name);
      env.putAll(serviceAccountEnv);
      Map<String, String> networkEnv = new LinkedHashMap<>(node.network().env(net));
      String networkJavaOptions = networkEnv.remove("JAVA_TOOL_OPTIONS");
      env.putAll(networkEnv);
      new ContainerEnv(node.client(), namespace, downward)
          .resolve(spec, env, v -> mapPaths(v, mounts));
      long limit = node.defaultMemoryLimitBytes();
      if (spec.getResources() != null
          && spec.getResources().getLimits() != null
          && spec.getResources().getLimits().get("memory") != null) {
        limit =
            Quantity.getAmountInBytes(spec.getResources().getLimits().get("memory")).longValue();
      }
      // What a JVM learns from its container's cgroup limit.
      env.merge("JAVA_TOOL_OPTIONS", "-XX:MaxRAM=" + limit, (a, b) -> b + " " + a);
      if (networkJavaOptions != null) {
        env.merge("JAVA_TOOL_OPTIONS", networkJavaOptions, (a, b) -> b + " " + a);
      }
      List<String> cmd = new ArrayList<>();
      List<String> args = new ArrayList<>();
      if (spec.getCommand() != null && !spec.getCommand().isEmpty()) {
        cmd.addAll(spec.getCommand());
      } else {
        cmd.addAll(image.entrypoint());
        if (spec.getArgs() == null || spec.getArgs().isEmpty()) {
          args.addAll(image.cmd());
        }
      }
      if (spec.getArgs() != null) {
        args.addAll(spec.getArgs());
      }
      cmd.addAll(args);
      command = new ArrayList<>();
      for (String s : cmd) {
        command.add(image.hostPath(mapPaths(ContainerEnv.expand(s, env), mounts)));
      }
      if (command.get(0).equals("java")) {
        command.set(0, ProcessHandle.current().info().command().orElse("java"));
      }
    }

    void launch() throws IOException {
      List<String> full = node.network().wrap(net, command);
      ProcessBuilder pb =
          new ProcessBuilder(full)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(spec.getName()).toFile()));
      pb.environment().clear();
      pb.environment().putAll(env);
      process = pb.start();
      startedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      readiness.restarted();
      ready = readiness.ready();
    }

    /** One step: restart after a crash, probe readiness. True when the status changed. */
    boolean tick() {
      Process p = process;
      if (p != null && !p.isAlive() && !terminating) {
        lastExit = p.exitValue();
        lastFinished = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        process = null;
        readiness.stopped();
        ready = false;
        // CrashLoopBackOff: 10 s doubling to 5 min, as a kubelet does; 1 s the first time.
        long backoff = restarts == 0 ? 1 : Math.min(300, 10L << Math.min(5, restarts - 1));
        restartAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(backoff);
        restarts++;
        LOG.warn(
            "pod {} container {} exited with {}; restart {} in {} s",
            name(),
            spec.getName(),
            lastExit,
            restarts,
            backoff);
        return true;
      }
      if (p == null) {
        if (!terminating && restartAt != 0 && System.nanoTime() >= restartAt) {
          try {
            launch();
            return true;
          } catch (IOException e) {
            LOG.error(
                "pod {} container {} restart failed: {}", name(), spec.getName(), e.toString());
            restartAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
          }
        }
        return false;
      }
      if (!readiness.tick(ip())) {
        return false;
      }
      ready = readiness.ready();
      return true;
    }

    ContainerStatus status() {
      Process p = process;
      var b =
          new ContainerStatusBuilder()
              .withName(spec.getName())
              .withImage(spec.getImage())
              .withImageID("process://" + image.name())
              .withReady(ready && !terminating)
              .withStarted(p != null)
              .withRestartCount(restarts);
      if (p != null) {
        b.withContainerID("process://" + p.pid())
            .withNewState()
            .withNewRunning()
            .withStartedAt(startedAt.toString())
            .endRunning()
            .endState();
      } else {
        b.withNewState()
            .withNewWaiting()
            .withReason("CrashLoopBackOff")
            .withMessage("exited with " + lastExit)
            .endWaiting()
            .endState();
      }
      if (lastExit != null) {
        b.withNewLastState()
            .withNewTerminated()
            .withExitCode(lastExit)
            .withReason(lastExit == 137 ? "OOMKilled or SIGKILL" : "Error")
            .withFinishedAt(lastFinished.toString())
            .endTerminated()
            .endLastState();
      }
      return b.build();
    }
  }

  /**
   * A container sees its volumes at their mount paths; a process sees them at host paths. Each
   * occurrence of a mount path at the start of a value or after '=', ':' or ' ' is rewritten.
   */
  static String mapPaths(String s, Map<String, String> mounts) {
    if (s == null) {
      return null;
    }
    String out = s;
    for (var m : mounts.entrySet()) {
      String from = m.getKey();
      StringBuilder b = new StringBuilder();
      int i = 0;
      while (true) {
        int at = out.indexOf(from, i);
        if (at < 0) {
          b.append(out, i, out.length());
          break;
        }
        int after = at + from.length();
        boolean startOk = at == 0 || "=: ".indexOf(out.charAt(at - 1)) >= 0;
        boolean endOk =
            after == out.length()
                || out.charAt(after) == '/'
                || out.charAt(after) == ' '
                || out.charAt(after) == ':';
        b.append(out, i, at).append(startOk && endOk ? m.getValue() : from);
        i = after;
      }
      out = b.toString();
    }
    return out;
  }
}
