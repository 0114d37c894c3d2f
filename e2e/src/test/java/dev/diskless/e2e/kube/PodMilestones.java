package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches the pods a label selector picks and records, at millisecond precision (System.nanoTime of
 * this JVM), when each pod appeared, when its PodScheduled condition became True (the scheduler
 * bound it) and when its Ready condition became True (its readiness probe passed), and on which
 * zone it runs. Condition timestamps in the API are whole seconds; a watch sees each change as it
 * is written, which is what splitting a scale-out of a few seconds into its parts needs.
 */
final class PodMilestones implements AutoCloseable {

  /** One pod's milestones; a milestone not reached yet is empty. */
  record Milestones(
      String name, long created, OptionalLong scheduled, OptionalLong ready, String zone) {}

  private final Map<String, Milestones> pods = new ConcurrentHashMap<>();
  private final SharedIndexInformer<Pod> informer;

  PodMilestones(KubernetesClient client, String namespace, String selector) {
    informer =
        client
            .pods()
            .inNamespace(namespace)
            .withLabelSelector(selector)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    seen(pod);
                  }

                  @Override
                  public void onUpdate(Pod old, Pod pod) {
                    seen(pod);
                  }

                  @Override
                  public void onDelete(Pod pod, boolean unknownFinalState) {}
                });
  }

  private void seen(Pod pod) {
    long now = System.nanoTime();
    pods.compute(
        pod.getMetadata().getName(),
        (name, before) -> {
          long created = before == null ? now : before.created();
          OptionalLong scheduled = before == null ? OptionalLong.empty() : before.scheduled();
          OptionalLong ready = before == null ? OptionalLong.empty() : before.ready();
          if (scheduled.isEmpty() && condition(pod, "PodScheduled")) {
            scheduled = OptionalLong.of(now);
          }
          if (ready.isEmpty() && condition(pod, "Ready")) {
            ready = OptionalLong.of(now);
          }
          String zone =
              pod.getMetadata().getLabels() == null
                  ? ""
                  : pod.getMetadata().getLabels().getOrDefault("topology.kubernetes.io/zone", "");
          return new Milestones(name, created, scheduled, ready, zone);
        });
  }

  private static boolean condition(Pod pod, String type) {
    return pod.getStatus() != null
        && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** Every pod seen so far, by name. */
  Map<String, Milestones> pods() {
    return Map.copyOf(pods);
  }

  @Override
  public void close() {
    informer.close();
  }
}
