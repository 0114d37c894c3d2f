package dev.diskless.e2e.kube;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pod network where the machine allows it: as a container runtime's CNI plugin would, a network
 * namespace with a veth pair to a bridge on the node, an address from 10.244.0.0/24 and a default
 * route through the node (10.244.0.1). Processes of the pod run inside it ({@link #wrap}), so each
 * may bind 0.0.0.0:9092 like in its own container. Service ClusterIPs are added to the node's
 * loopback, where {@link ServiceProxy} answers for them. Needs CAP_NET_ADMIN (root here).
 */
public final class NamespacePodNetwork implements PodNetwork {

  private static final Logger LOG = LoggerFactory.getLogger(NamespacePodNetwork.class);
  private static final String PREFIX = "10.244.0.";

  private final String bridge;
  private final String tag;
  private final HostNumbers hosts = new HostNumbers();
  private final Set<String> serviceAddresses = ConcurrentHashMap.newKeySet();

  private NamespacePodNetwork(String tag) {
    this.tag = tag;
    this.bridge = "dkb" + tag;
  }

  /** Creates the node's bridge, or says why this machine cannot. */
  public static NamespacePodNetwork create() throws IOException {
    NamespacePodNetwork n = new NamespacePodNetwork(UUID.randomUUID().toString().substring(0, 5));
    try {
      ip("link", "add", "name", n.bridge, "type", "bridge");
      ip("addr", "add", PREFIX + "1/24", "dev", n.bridge);
      ip("link", "set", n.bridge, "up");
    } catch (IOException e) {
      n.close();
      throw new IOException(
          "pod networks need network namespaces and bridges (CAP_NET_ADMIN): " + e.getMessage(), e);
    }
    return n;
  }

  @Override
  public String nodeAddress() {
    return PREFIX + "1";
  }

  @Override
  public synchronized Attachment attach() throws IOException {
    int n = hosts.take();
    String netns = "dkn" + tag + "-" + n;
    String veth = "dkv" + tag + n;
    try {
      ip("netns", "add", netns);
      ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns);
      ip("link", "set", veth, "master", bridge, "up");
      ip("-n", netns, "addr", "add", PREFIX + n + "/24", "dev", "eth0");
      ip("-n", netns, "link", "set", "eth0", "up");
      ip("-n", netns, "link", "set", "lo", "up");
      ip("-n", netns, "route", "add", "default", "via", nodeAddress());
    } catch (IOException e) {
      detach(new Attachment(PREFIX + n, netns, veth));
      throw e;
    }
    return new Attachment(PREFIX + n, netns, veth);
  }

  @Override
  public synchronized void detach(Attachment a) {
    quietly("link", "del", a.hostVeth());
    quietly("netns", "del", a.netns());
    hosts.release(Integer.parseInt(a.ip().substring(PREFIX.length())));
  }

  /**
   * Another address of the node on the pod network, for a service that a fault must be able to cut
   * off alone (a pod's route to one node address can be dropped while the others stay).
   */
  public synchronized String nodeAlias() throws IOException {
    String address = PREFIX + hosts.take();
    ip("addr", "add", address + "/32", "dev", bridge);
    return address;
  }

  /**
   * Drops every packet the pod sends to {@code cidr} (a blackhole route in its namespace): its
   * connections there stall as behind a network cut, and new ones time out.
   */
  public void cut(Attachment a, String cidr) throws IOException {
    ip("-n", a.netns(), "route", "add", "blackhole", cidr);
  }

  /** Undoes {@link #cut}. */
  public void heal(Attachment a, String cidr) throws IOException {
    ip("-n", a.netns(), "route", "del", "blackhole", cidr);
  }

  /** The command, run inside the pod's network namespace. */
  @Override
  public List<String> wrap(Attachment a, List<String> command) {
    List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", a.netns()));
    out.addAll(command);
    return out;
  }

  /** The ClusterIP itself, made local to the node so that pods and this JVM can connect to it. */
  @Override
  public InetSocketAddress serviceAddress(String clusterIp, int port) throws IOException {
    if (serviceAddresses.add(clusterIp)) {
      ip("addr", "add", clusterIp + "/32", "dev", "lo");
    }
    return new InetSocketAddress(clusterIp, port);
  }

  @Override
  public boolean exposesLoopback() {
    return false;
  }

  @Override
  public Map<String, String> env(Attachment a) {
    return Map.of();
  }

  @Override
  public synchronized void close() {
    for (String a : serviceAddresses) {
      quietly("addr", "del", a + "/32", "dev", "lo");
    }
    for (int n : hosts.taken()) {
      quietly("link", "del", "dkv" + tag + n);
      quietly("netns", "del", "dkn" + tag + "-" + n);
    }
    quietly("link", "del", bridge);
  }

  private static void quietly(String... args) {
    try {
      ip(args);
    } catch (IOException e) {
      LOG.debug("ip {}: {}", String.join(" ", args), e.getMessage());
    }
  }

  static void ip(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() != 0) {
        throw new IOException(String.join(" ", cmd) + ": " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", cmd), e);
    }
  }
}
