package dev.diskless.e2e.kube;

import dev.diskless.kube.ControlPlaneBinaries;
import dev.diskless.kube.Directories;
import dev.diskless.kube.LocalControlPlane;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The whole local Kubernetes of the e2e scenarios: the control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler), three process kubelets (Nodes in zones zone-a, zone-b
 * and zone-c of one region, so that the scheduler spreads pods over zones and pods learn their zone
 * as in a cloud cluster) sharing one pod network, the service proxy, and forwarders that make
 * services of this machine (S3Proxy, PostgreSQL) reachable from pods at the node's address. Its
 * scratch directory (etcd data, images, pod directories with each container's log) is deleted on
 * close unless the system property {@value #KEEP_WORK} is {@code true}, for reading the logs of a
 * failed run.
 */
public final class LocalKubernetes implements AutoCloseable {

  /** Components the build script must provide. */
  public static final String COMPONENTS =
      "etcd kube-apiserver kube-controller-manager kube-scheduler";

  /** System property that keeps the scratch directory after close. */
  public static final String KEEP_WORK = "diskless.e2e.keepWork";

  private final Path repo;
  private final Path work;
  private final PodNetwork network;
  private final LocalControlPlane controlPlane;
  private final KubernetesClient client;

  /** The Nodes: name and zone. */
  public static final Map<String, String> ZONES =
      Collections.unmodifiableMap(
          new TreeMap<>(Map.of("node-a", "zone-a", "node-b", "zone-b", "node-c", "zone-c")));

  /** The region every Node is in. */
  public static final String REGION = "local-1";

  private final List<ProcessKubelet> kubelets = new ArrayList<>();
  private final ServiceProxy proxy;
  private final List<TcpForwarder> exposed = new ArrayList<>();

  private LocalKubernetes(Path repo, Path work) throws Exception {
    this.repo = repo;
    this.work = work;
    Path bin = ControlPlaneBinaries.locate(repo, COMPONENTS, null);
    network = PodNetwork.create();
    LocalControlPlane started = null;
    try {
      started =
          new LocalControlPlane(
              bin,
              work.resolve("control-plane"),
              new LocalControlPlane.Options("0.0.0.0", network.nodeAddress(), true));
      controlPlane = started;
      client = controlPlane.adminClient();
      ImageCatalog images =
          new ImageCatalog(work)
              .with("diskless/broker", repo.resolve("broker-image/Dockerfile"))
              .with("diskless/operator", repo.resolve("operator/Dockerfile"))
              .prepare();
      // One machine, so every Node has the same address; each kubelet runs only the pods bound
      // to its Node, all on the one pod network (as pods of different nodes reach each other).
      for (var n : ZONES.entrySet()) {
        kubelets.add(
            new ProcessKubelet(
                new ProcessKubelet.NodeContext(
                    client,
                    n.getKey(),
                    n.getValue(),
                    REGION,
                    network,
                    images,
                    work,
                    "https://" + network.nodeAddress() + ":" + controlPlane.apiPort(),
                    1L << 30)));
      }
      proxy = new ServiceProxy(client, network);
    } catch (Exception e) {
      kubelets.forEach(ProcessKubelet::close);
      if (started != null) {
        started.close();
      }
      network.close();
      Directories.deleteTree(work);
      throw e;
    }
  }

  /**
   * Starts everything; {@code repo} is the repository root (for the Dockerfiles and the script).
   */
  public static LocalKubernetes start(Path repo) throws Exception {
    Path work = Files.createTempDirectory("diskless-local-kube");
    return new LocalKubernetes(repo.toAbsolutePath().normalize(), work);
  }

  public KubernetesClient client() {
    return client;
  }

  public LocalControlPlane controlPlane() {
    return controlPlane;
  }

  /** The pod with this uid as its kubelet runs it, whichever Node it is on. */
  public Optional<PodRunner> runner(String podUid) {
    return kubelets.stream()
        .map(k -> k.runners().get(podUid))
        .filter(java.util.Objects::nonNull)
        .findFirst();
  }

  /**
   * Fails a Node the way a zone outage does: every process of every pod on it is killed at once
   * (SIGKILL, no grace, no restart), their addresses vanish, and the Node stops reporting — its
   * pods keep their last status until the node lifecycle controller notices, as in a real outage.
   */
  public void failNode(String nodeName) {
    kubelets.stream()
        .filter(k -> k.nodeName().equals(nodeName))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + nodeName))
        .close();
  }

  /** Where pods reach this machine. */
  public String nodeAddress() {
    return network.nodeAddress();
  }

  /**
   * Makes a service listening on this machine's loopback reachable from pods at the node's address.
   */
  public void expose(int port) throws IOException {
    if (network.exposesLoopback()) {
      return;
    }
    exposed.add(
        new TcpForwarder(
            new InetSocketAddress(network.nodeAddress(), port),
            () -> new InetSocketAddress("127.0.0.1", port)));
  }

  /** Where this JVM connects to a Service's port (its ClusterIP, or what stands in for it). */
  public InetSocketAddress serviceAddress(String namespace, String name, int port)
      throws IOException {
    String ip =
        client.services().inNamespace(namespace).withName(name).get().getSpec().getClusterIP();
    return network.serviceAddress(ip, port);
  }

  /** Network namespaces, or loopback aliases (see {@link PodNetwork#create}). */
  public String networkKind() {
    return network instanceof NamespacePodNetwork ? "network namespaces" : "loopback aliases";
  }

  public Path repo() {
    return repo;
  }

  @Override
  public void close() throws Exception {
    kubelets.forEach(ProcessKubelet::close);
    proxy.close();
    for (TcpForwarder f : exposed) {
      f.close();
    }
    client.close();
    controlPlane.close();
    network.close();
    if (Boolean.getBoolean(KEEP_WORK)) {
      System.out.println("local Kubernetes kept its files in " + work);
    } else {
      Directories.deleteTree(work);
    }
  }
}
