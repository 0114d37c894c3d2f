package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a pod's status on a {@link ProcessKubelet} to the API server as a kubelet does: phase,
 * addresses, start time, the four conditions with the time each last changed, and a status per
 * container — for a pod that could not start, each container waiting with RunContainerError and the
 * reason.
 */
final class PodStatusWriter {

  private final ProcessKubelet.NodeContext node;
  private final String namespace;
  private final String name;
  private final Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final Map<String, String> conditionSince = new TreeMap<>();

  PodStatusWriter(ProcessKubelet.NodeContext node, String namespace, String name) {
    this.node = node;
    this.namespace = namespace;
    this.name = name;
  }

  /**
   * Patches the pod's status.
   *
   * @param containers the statuses of the containers that run
   * @param allReady whether every container runs and is ready
   * @param failure why the pod could not start, or null
   * @param terminating whether the pod is being deleted (then it is not Ready)
   * @param ip the pod's address, or null before it has one
   */
  synchronized void write(
      Pod pod,
      List<ContainerStatus> containers,
      boolean allReady,
      String failure,
      boolean terminating,
      String ip) {
    List<ContainerStatus> statuses = new ArrayList<>(containers);
    if (failure != null) {
      for (Container c : pod.getSpec().getContainers()) {
        statuses.add(
            new ContainerStatusBuilder()
                .withName(c.getName())
                .withImage(c.getImage())
                .withImageID("")
                .withReady(false)
                .withRestartCount(0)
                .withNewState()
                .withNewWaiting()
                .withReason("RunContainerError")
                .withMessage(failure)
                .endWaiting()
                .endState()
                .build());
      }
    }
    boolean ready = allReady && !terminating;
    Pod status =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withNewStatus()
            .withPhase(failure != null ? "Pending" : "Running")
            .withHostIP(node.network().nodeAddress())
            .withPodIP(ip)
            .withPodIPs(ip == null ? List.of() : List.of(new PodIP(ip)))
            .withStartTime(started.toString())
            .withConditions(
                condition("PodScheduled", true),
                condition("Initialized", true),
                condition("ContainersReady", allReady),
                condition("Ready", ready))
            .withContainerStatuses(statuses)
            .endStatus()
            .build();
    node.client().pods().inNamespace(namespace).resource(status).patchStatus();
  }

  private PodCondition condition(String type, boolean value) {
    String status = value ? "True" : "False";
    String since =
        conditionSince.compute(
            type + "=" + status,
            (k, v) -> v != null ? v : Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    conditionSince.remove(type + "=" + (value ? "False" : "True"));
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withLastTransitionTime(since)
        .build();
  }
}
