package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node agent that runs pods as local processes: it registers a Node with its zone and region
 * labels (kept alive with a Lease in kube-node-lease, as a kubelet does), watches the pods the
 * scheduler binds to it and runs each with a {@link PodRunner}: its own network namespace and
 * address, the image's entrypoint mapped to the built jar ({@link ImageCatalog}), env, args and
 * mounted ConfigMaps and Secrets from the pod spec, status and readiness reported from the
 * readiness probe, processes stopped with the pod's grace period when it is deleted.
 */
public final class ProcessKubelet implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessKubelet.class);

  /** What every pod of this node gets from it. */
  public record NodeContext(
      KubernetesClient client,
      String nodeName,
      String zone,
      String region,
      PodNetwork network,
      ImageCatalog images,
      Path work,
      String apiServerUrlForPods,
      long defaultMemoryLimitBytes) {}

  private final NodeContext node;
  private final Map<String, PodRunner> pods = new ConcurrentHashMap<>();
  private final SharedIndexInformer<Pod> informer;
  private final Thread heartbeat;
  private volatile boolean running = true;

  public ProcessKubelet(NodeContext node) {
    this.node = node;
    register();
    heartbeat =
        Thread.ofVirtual().name("kubelet-heartbeat-" + node.nodeName()).start(this::heartbeatLoop);
    informer =
        node.client()
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", node.nodeName())
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    sync(pod);
                  }

                  @Override
                  public void onUpdate(Pod old, Pod pod) {
                    sync(pod);
                  }

                  @Override
                  public void onDelete(Pod pod, boolean unknownFinalState) {
                    PodRunner r = pods.remove(pod.getMetadata().getUid());
                    if (r != null) {
                      r.killNow();
                    }
                  }
                });
  }

  private void sync(Pod pod) {
    String uid = pod.getMetadata().getUid();
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      PodRunner r = pods.get(uid);
      if (r != null) {
        r.terminate(pod);
      } else {
        // Never started here (or this kubelet restarted): nothing to stop.
        PodRunner.finishDeletion(node, pod);
      }
      return;
    }
    pods.computeIfAbsent(uid, u -> PodRunner.start(node, pod, () -> pods.remove(u)));
  }

  /** The pods running now, by uid: for tests that kill a pod's process. */
  public Map<String, PodRunner> runners() {
    return Map.copyOf(pods);
  }

  private void register() {
    Map<String, Quantity> capacity =
        Map.of(
            "cpu", new Quantity("32"), "memory", new Quantity("64Gi"), "pods", new Quantity("110"));
    var n =
        new NodeBuilder()
            .withNewMetadata()
            .withName(node.nodeName())
            .addToLabels("kubernetes.io/hostname", node.nodeName())
            .addToLabels("kubernetes.io/os", "linux")
            .addToLabels("topology.kubernetes.io/zone", node.zone())
            .addToLabels("topology.kubernetes.io/region", node.region())
            .endMetadata()
            .build();
    node.client().nodes().resource(n).serverSideApply();
    String now = rfc3339(Instant.now());
    // A merge patch without resourceVersion: the node controller writes this node too.
    var withStatus =
        new NodeBuilder()
            .withNewMetadata()
            .withName(node.nodeName())
            .endMetadata()
            .withStatus(
                new io.fabric8.kubernetes.api.model.NodeStatusBuilder()
                    .withCapacity(capacity)
                    .withAllocatable(capacity)
                    .addNewCondition()
                    .withType("Ready")
                    .withStatus("True")
                    .withReason("KubeletReady")
                    .withMessage("process kubelet is posting ready status")
                    .withLastHeartbeatTime(now)
                    .withLastTransitionTime(now)
                    .endCondition()
                    .addNewAddress()
                    .withType("InternalIP")
                    .withAddress(node.network().nodeAddress())
                    .endAddress()
                    .addNewAddress()
                    .withType("Hostname")
                    .withAddress(node.nodeName())
                    .endAddress()
                    .withNewNodeInfo()
                    .withKubeletVersion("v1.36.3-process")
                    .withOperatingSystem("linux")
                    .withArchitecture("amd64")
                    .withContainerRuntimeVersion("process://local")
                    .withKernelVersion("")
                    .withOsImage("")
                    .withKubeProxyVersion("")
                    .withMachineID(node.nodeName())
                    .withSystemUUID(node.nodeName())
                    .withBootID(node.nodeName())
                    .endNodeInfo()
                    .build())
            .build();
    // patchStatus() would diff against a copy it just read, which the node controller may have
    // annotated in between. A merge patch needs no copy.
    node.client()
        .nodes()
        .withName(node.nodeName())
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            node.client().getKubernetesSerialization().asJson(withStatus));
    LOG.info(
        "node {} (zone {}) registered at {}",
        node.nodeName(),
        node.zone(),
        node.network().nodeAddress());
  }

  /**
   * A Kubernetes Time: RFC 3339 to the second, seconds always written. ZonedDateTime's toString
   * drops ":00" seconds, which the API server refuses (one registration in sixty failed in CI).
   */
  static String rfc3339(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  private void heartbeatLoop() {
    while (running) {
      try {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        node.client()
            .leases()
            .inNamespace("kube-node-lease")
            .resource(
                new LeaseBuilder()
                    .withNewMetadata()
                    .withName(node.nodeName())
                    .withNamespace("kube-node-lease")
                    .endMetadata()
                    .withNewSpec()
                    .withHolderIdentity(node.nodeName())
                    .withLeaseDurationSeconds(40)
                    .withRenewTime(now)
                    .endSpec()
                    .build())
            .forceConflicts()
            .serverSideApply();
      } catch (Exception e) {
        if (running) {
          LOG.warn("node lease renewal failed: {}", e.toString());
        }
      }
      try {
        Thread.sleep(10_000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  public String nodeName() {
    return node.nodeName();
  }

  /**
   * Stops every pod's processes at once (the node goes away), then the watches. Closing again does
   * nothing.
   */
  @Override
  public synchronized void close() {
    if (!running) {
      return;
    }
    running = false;
    heartbeat.interrupt();
    informer.close();
    for (PodRunner r : pods.values()) {
      r.killNow();
    }
    pods.clear();
    LOG.info("node {} stopped at {}", node.nodeName(), Instant.now());
  }
}
