package dev.diskless.operator.reconciler.topic;

import dev.diskless.operator.crd.DisklessKafkaTopic;
import dev.diskless.operator.crd.DisklessKafkaTopicStatus;
import dev.diskless.operator.reconciler.AdminSync;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reconciles a DisklessKafkaTopic: {@link TopicSync} keeps the topic in the cluster on threads of
 * its own, and the status says whether it is in step (Ready, with the broker's reason when not),
 * the topic's name, id and partitions. Deleting the resource deletes the topic only with
 * deletionPolicy Delete.
 */
public class DisklessKafkaTopicReconciler
    implements Reconciler<DisklessKafkaTopic>, Cleaner<DisklessKafkaTopic> {

  static final Duration RESYNC = Duration.ofSeconds(30);

  private final SimpleInboundEventSource<DisklessKafkaTopic> synced =
      new SimpleInboundEventSource<>("topic-sync");

  @Inject TopicSync sync;

  @Override
  public List<EventSource<?, DisklessKafkaTopic>> prepareEventSources(
      EventSourceContext<DisklessKafkaTopic> context) {
    sync.onChange(synced::propagateEvent);
    return List.of(synced);
  }

  @Override
  public UpdateControl<DisklessKafkaTopic> reconcile(
      DisklessKafkaTopic topic, Context<DisklessKafkaTopic> context) {
    Optional<AdminSync.Outcome> outcome = sync.latest(topic);
    if (outcome.isEmpty()) {
      return UpdateControl.<DisklessKafkaTopic>noUpdate().rescheduleAfter(RESYNC);
    }
    DisklessKafkaTopicStatus next = status(topic, outcome.get(), sync.observed(topic));
    if (same(topic.getStatus(), next)) {
      return UpdateControl.<DisklessKafkaTopic>noUpdate().rescheduleAfter(RESYNC);
    }
    DisklessKafkaTopic patch = new DisklessKafkaTopic();
    patch.setMetadata(topic.getMetadata());
    patch.setStatus(next);
    return UpdateControl.patchStatus(patch).rescheduleAfter(RESYNC);
  }

  @Override
  public DeleteControl cleanup(DisklessKafkaTopic topic, Context<DisklessKafkaTopic> context) {
    Optional<AdminSync.Outcome> removed = sync.delete(topic);
    if (removed.isPresent() && removed.get().ready()) {
      return DeleteControl.defaultDelete();
    }
    return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofSeconds(2));
  }

  private static DisklessKafkaTopicStatus status(
      DisklessKafkaTopic topic, AdminSync.Outcome outcome, Optional<TopicSync.Observed> seen) {
    DisklessKafkaTopicStatus s = new DisklessKafkaTopicStatus();
    s.observedGeneration = topic.getMetadata().getGeneration();
    s.topicName = TopicSync.topicName(topic);
    s.topicId = seen.map(TopicSync.Observed::topicId).orElse(null);
    s.partitions = seen.map(TopicSync.Observed::partitions).orElse(null);
    s.conditions.add(
        AdminSync.readyCondition(
            topic.getStatus() == null ? null : topic.getStatus().conditions,
            outcome,
            topic.getMetadata().getGeneration()));
    return s;
  }

  private static boolean same(DisklessKafkaTopicStatus a, DisklessKafkaTopicStatus b) {
    return a != null
        && Objects.equals(a.observedGeneration, b.observedGeneration)
        && Objects.equals(a.topicName, b.topicName)
        && Objects.equals(a.topicId, b.topicId)
        && Objects.equals(a.partitions, b.partitions)
        && AdminSync.sameConditions(a.conditions, b.conditions);
  }
}
