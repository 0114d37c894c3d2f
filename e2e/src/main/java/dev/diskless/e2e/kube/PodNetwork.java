package dev.diskless.e2e.kube;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Gives each pod an address of its own and a way to reach the node, as a CNI plugin would; and
 * tells where a Service's ClusterIP answers. {@link NamespacePodNetwork} where the machine allows
 * network namespaces, {@link LoopbackPodNetwork} otherwise.
 */
public interface PodNetwork extends AutoCloseable {

  /** A pod's place on the network (netns and veth only for network namespaces). */
  record Attachment(String ip, String netns, String hostVeth) {}

  /**
   * Network namespaces when the machine allows them, loopback aliases otherwise or when asked
   * ({@code -Ddiskless.pod.network=loopback} or {@code DISKLESS_POD_NETWORK=loopback}).
   */
  static PodNetwork create() throws IOException {
    String wanted =
        System.getProperty("diskless.pod.network", System.getenv("DISKLESS_POD_NETWORK"));
    if (!"loopback".equals(wanted)) {
      try {
        return NamespacePodNetwork.create();
      } catch (IOException e) {
        org.slf4j.LoggerFactory.getLogger(PodNetwork.class)
            .warn("no network namespaces ({}); pods get loopback aliases", e.getMessage());
      }
    }
    return LoopbackPodNetwork.create();
  }

  /** Where pods reach services of the node (the API server, S3Proxy, PostgreSQL). */
  String nodeAddress();

  Attachment attach() throws IOException;

  void detach(Attachment a);

  /** The command as it must be started to run on the pod's network. */
  List<String> wrap(Attachment a, List<String> command);

  /** Environment the pod's processes need on this network. */
  Map<String, String> env(Attachment a);

  /**
   * Where the service proxy listens for a ClusterIP:port, and where clients of this JVM connect.
   */
  InetSocketAddress serviceAddress(String clusterIp, int port) throws IOException;

  /**
   * Whether pods reach this machine's loopback services directly (no forwarders needed at the
   * node's address).
   */
  boolean exposesLoopback();

  @Override
  void close();
}
