package dev.diskless.operator.testing;

import dev.diskless.kube.ControlPlaneBinaries;
import dev.diskless.kube.Directories;
import dev.diskless.kube.LocalControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The real Kubernetes control plane of the operator's tests: etcd, kube-apiserver and
 * kube-controller-manager on loopback ports (Deployments get ReplicaSets and Pods, owned objects
 * are garbage-collected, claims bind, namespaces are emptied; no scheduler or kubelet, so pods stay
 * Pending), built from source by {@code e2e/kube/build-control-plane.sh} — the package registries
 * are all this project's CI can reach. One per test JVM; each test works in a namespace of its own.
 * Admin access is a static token of a system:masters user, so RBAC is enforced for every other
 * identity.
 */
public final class KubeControlPlane {

  private static final String COMPONENTS = "etcd kube-apiserver kube-controller-manager";

  private static KubeControlPlane instance;

  private final LocalControlPlane plane;

  private KubeControlPlane(LocalControlPlane plane) {
    this.plane = plane;
  }

  /** The control plane of this JVM, started on first use. */
  public static synchronized KubeControlPlane get() {
    if (instance == null) {
      try {
        Path bin =
            ControlPlaneBinaries.locate(
                Path.of("..").toAbsolutePath().normalize(),
                COMPONENTS,
                System.getProperty("kube.bin"));
        Path work = Files.createTempDirectory("kube-control-plane");
        LocalControlPlane plane =
            new LocalControlPlane(bin, work, LocalControlPlane.Options.apiOnly());
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      plane.close();
                      Directories.deleteTree(work);
                    }));
        instance = new KubeControlPlane(plane);
      } catch (Exception e) {
        throw new IllegalStateException("cannot start the Kubernetes control plane: " + e, e);
      }
    }
    return instance;
  }

  public String url() {
    return plane.url();
  }

  /** A token of a system:masters user. */
  public String adminToken() {
    return plane.adminToken();
  }

  /** A client with cluster-admin rights. */
  public KubernetesClient adminClient() {
    return plane.adminClient();
  }

  /** Creates a fresh namespace and returns its name. */
  public String newNamespace(KubernetesClient client) {
    String name = "t-" + UUID.randomUUID().toString().substring(0, 8);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }
}
