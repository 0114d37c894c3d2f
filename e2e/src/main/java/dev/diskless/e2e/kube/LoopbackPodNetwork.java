package dev.diskless.e2e.kube;

import dev.diskless.kube.Directories;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pod network for machines without network namespaces: each pod gets an address of its own on
 * the loopback (127.0.10.0/24: Linux routes all of 127/8 to lo, no configuration needed) and its
 * processes are started with a small preloaded library that turns a bind to the wildcard address
 * into a bind to the pod's address, so that every broker can still listen on "0.0.0.0:9092". Pods
 * reach the node's services on 127.0.0.1; Service ClusterIPs (not routable here) are answered on
 * 127.0.9.0/24 instead, and {@link #serviceAddress} says where.
 */
public final class LoopbackPodNetwork implements PodNetwork {

  private static final String SHIM =
      """
      #define _GNU_SOURCE
      #include <arpa/inet.h>
      #include <dlfcn.h>
      #include <netinet/in.h>
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>
      #include <sys/socket.h>

      /* bind(2) to the wildcard address becomes a bind to the pod's own address. */
      int bind(int fd, const struct sockaddr *addr, socklen_t len) {
        static int (*real_bind)(int, const struct sockaddr *, socklen_t);
        if (!real_bind) real_bind = (int (*)(int, const struct sockaddr *, socklen_t)) dlsym(RTLD_NEXT, "bind");
        const char *ip = getenv("DISKLESS_POD_IP");
        if (ip && addr && addr->sa_family == AF_INET && len >= (socklen_t) sizeof(struct sockaddr_in)) {
          struct sockaddr_in in;
          memcpy(&in, addr, sizeof in);
          if (in.sin_addr.s_addr == htonl(INADDR_ANY) && inet_pton(AF_INET, ip, &in.sin_addr) == 1)
            return real_bind(fd, (const struct sockaddr *) &in, sizeof in);
        }
        if (ip && addr && addr->sa_family == AF_INET6 && len >= (socklen_t) sizeof(struct sockaddr_in6)) {
          struct sockaddr_in6 in6;
          memcpy(&in6, addr, sizeof in6);
          char mapped[64];
          snprintf(mapped, sizeof mapped, "::ffff:%s", ip);
          if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr) && inet_pton(AF_INET6, mapped, &in6.sin6_addr) == 1)
            return real_bind(fd, (const struct sockaddr *) &in6, sizeof in6);
        }
        return real_bind(fd, addr, len);
      }
      """;

  private final Path shim;
  private final HostNumbers hosts = new HostNumbers();
  private final Map<String, Integer> services = new ConcurrentHashMap<>();
  private final AtomicInteger nextService = new AtomicInteger(1);

  private LoopbackPodNetwork(Path shim) {
    this.shim = shim;
  }

  /** Compiles the bind shim (needs a C compiler) and returns the network. */
  public static LoopbackPodNetwork create() throws IOException {
    Path library = PreloadShim.compile(Files.createTempDirectory("pod-bind"), "podbind", SHIM);
    return new LoopbackPodNetwork(library);
  }

  @Override
  public String nodeAddress() {
    return "127.0.0.1";
  }

  @Override
  public Attachment attach() throws IOException {
    return new Attachment("127.0.10." + hosts.take(), null, null);
  }

  @Override
  public void detach(Attachment a) {
    hosts.release(Integer.parseInt(a.ip().substring("127.0.10.".length())));
  }

  @Override
  public List<String> wrap(Attachment a, List<String> command) {
    return command;
  }

  /** The shim, the pod's address, and IPv4 sockets for JVMs (the shim maps both families). */
  @Override
  public Map<String, String> env(Attachment a) {
    return Map.of(
        "LD_PRELOAD", shim.toString(),
        "DISKLESS_POD_IP", a.ip(),
        "JAVA_TOOL_OPTIONS", "-Djava.net.preferIPv4Stack=true");
  }

  @Override
  public InetSocketAddress serviceAddress(String clusterIp, int port) {
    int k = services.computeIfAbsent(clusterIp, ip -> nextService.getAndIncrement());
    return new InetSocketAddress("127.0.9." + k, port);
  }

  @Override
  public boolean exposesLoopback() {
    return true;
  }

  @Override
  public void close() {
    // Nothing was configured on the machine; only the compiled shim is left to remove.
    Directories.deleteTree(shim.getParent());
  }
}
