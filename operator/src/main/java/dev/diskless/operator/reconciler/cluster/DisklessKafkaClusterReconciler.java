package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.DisklessKafkaClusterStatus;
import dev.diskless.operator.crd.ObjectStoreSpec;
import dev.diskless.operator.reconciler.cluster.autoscaling.ClusterAutoscaler;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.AggregatedOperatorException;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Reconciles a DisklessKafkaCluster: the workflow applies each owned object (server-side apply,
 * nothing written when nothing changed), then the status is computed from what was observed and
 * patched only if it differs. Owned: the brokers' ServiceAccount, settings ConfigMap and Deployment
 * (one per zone with zones), the bootstrap and headless Services, the PodDisruptionBudget and, for
 * a volume WAL, its claim. The bucket and the metadata database are checked by {@link
 * ExternalChecks} on threads of their own (their I/O waits for seconds); a reconcile reads their
 * last answer for the current spec (BucketReady, MetadataReady), and writes no status before the
 * first one, which then asks for a reconcile. With autoscaling on, the {@link ClusterAutoscaler}
 * samples the brokers on its own thread; its count goes into the status (an Event for each change)
 * and from there into the Deployment. A failed reconcile is reported as Degraded; deletion honours
 * the bucket's deletionPolicy. The conditions are also published as meters ({@link
 * ClusterConditionMetrics}).
 */
@Workflow(
    dependents = {
      @Dependent(type = ServiceAccountDependentResource.class, name = "service-account"),
      @Dependent(type = BootstrapServiceDependentResource.class, name = "bootstrap-service"),
      @Dependent(type = HeadlessServiceDependentResource.class, name = "headless-service"),
      @Dependent(type = BrokerDisruptionBudgetDependentResource.class, name = "disruption-budget"),
      @Dependent(type = BrokerConfigMapDependentResource.class, name = "config"),
      @Dependent(
          type = WalVolumeDependentResource.class,
          name = "wal-volume",
          reconcilePrecondition = WalVolumeDependentResource.IsVolumeWal.class),
      @Dependent(
          type = OperatorCredentialsDependentResource.class,
          name = "operator-credentials",
          reconcilePrecondition = OperatorCredentialsDependentResource.HasSaslListener.class),
      @Dependent(type = ClientsCaDependentResource.class, name = "clients-ca"),
      @Dependent(
          type = BrokerDeploymentDependentResource.class,
          name = "brokers",
          dependsOn = {"service-account", "config", "clients-ca"})
    })
public class DisklessKafkaClusterReconciler
    implements Reconciler<DisklessKafkaCluster>, Cleaner<DisklessKafkaCluster> {

  /** How often the external checks (bucket, metadata database) run without an event. */
  static final Duration RECHECK = Duration.ofSeconds(30);

  /** How soon a new autoscaler count, just written to the status, reaches the Deployment. */
  static final Duration SOON = Duration.ofMillis(200);

  private static final Logger LOG = Logger.getLogger(DisklessKafkaClusterReconciler.class);

  private final ClusterStatusFactory statuses = new ClusterStatusFactory(Clock.systemUTC());

  /** The autoscaler asks for a reconcile through it when a cluster's broker count changes. */
  private final SimpleInboundEventSource<DisklessKafkaCluster> scaled =
      new SimpleInboundEventSource<>("autoscaler");

  /** The external checks ask for a reconcile through it when their answer for a cluster changed. */
  private final SimpleInboundEventSource<DisklessKafkaCluster> checked =
      new SimpleInboundEventSource<>("external-checks");

  @Inject ClusterAutoscaler autoscaler;

  @Inject ExternalChecks checks;

  @Inject ClusterConditionMetrics conditions;

  @Override
  public List<EventSource<?, DisklessKafkaCluster>> prepareEventSources(
      EventSourceContext<DisklessKafkaCluster> context) {
    autoscaler.onScale(scaled::propagateEvent);
    checks.onChange(checked::propagateEvent);
    return List.of(scaled, checked);
  }

  @Override
  public UpdateControl<DisklessKafkaCluster> reconcile(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    Optional<ClusterAutoscaler.Snapshot> scaling = Optional.empty();
    if (cluster.getSpec().autoscaling != null && cluster.getSpec().autoscaling.enabled) {
      scaling = Optional.of(autoscaler.track(cluster));
    } else {
      autoscaler.forget(ResourceID.fromResource(cluster));
    }
    Optional<ExternalChecks.Results> external = checks.latest(cluster);
    if (external.isEmpty()) {
      if (cluster.getStatus() != null) {
        // After an operator restart: the stored conditions stand until the checks answer.
        conditions.observed(ResourceID.fromResource(cluster), cluster.getStatus().conditions);
      }
      // The checks of this spec have not answered yet; a status without them would claim the
      // bucket or database unusable. Their answer asks for a reconcile; the reschedule is a
      // fallback.
      return UpdateControl.<DisklessKafkaCluster>noUpdate().rescheduleAfter(RECHECK);
    }
    DisklessKafkaClusterStatus next =
        statuses.observed(
            cluster,
            new ClusterStatusFactory.Observed(
                List.copyOf(context.getSecondaryResources(Deployment.class)),
                context.getSecondaryResource(PersistentVolumeClaim.class),
                external.get().metadata(),
                external.get().bucket(),
                scaling));
    conditions.observed(ResourceID.fromResource(cluster), next.conditions);
    if (!ClusterStatusFactory.differs(cluster.getStatus(), next)) {
      // The bucket and the database are outside Kubernetes: nothing signals a change, so look
      // again later (the reconcile then starts a new check if the last answer is old).
      return UpdateControl.<DisklessKafkaCluster>noUpdate().rescheduleAfter(RECHECK);
    }
    var before = cluster.getStatus() == null ? null : cluster.getStatus().autoscaling;
    if (next.autoscaling != null
        && next.autoscaling.lastScaleTime != null
        && (before == null
            || !Objects.equals(before.lastScaleTime, next.autoscaling.lastScaleTime))) {
      ScaleEvents.record(context.getClient(), cluster, next.autoscaling);
    }
    boolean countChanged =
        next.autoscaling != null
            && (before == null
                || !Objects.equals(before.desiredBrokers, next.autoscaling.desiredBrokers));
    // The Deployment follows the stored status: reconcile again at once to apply a new count.
    return UpdateControl.patchStatus(statusPatch(cluster, next))
        .rescheduleAfter(countChanged ? SOON : RECHECK);
  }

  /** A failed reconcile (an object the API server refused, ...) is reported as Degraded. */
  @Override
  public ErrorStatusUpdateControl<DisklessKafkaCluster> updateErrorStatus(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context, Exception e) {
    String message = failure(e);
    LOG.warnf(
        "cluster=%s/%s reconcile failed: %s",
        cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), message);
    DisklessKafkaClusterStatus next = statuses.failed(cluster, message);
    conditions.observed(ResourceID.fromResource(cluster), next.conditions);
    if (!ClusterStatusFactory.differs(cluster.getStatus(), next)) {
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    return ErrorStatusUpdateControl.patchStatus(statusPatch(cluster, next));
  }

  /**
   * Owned objects go by garbage collection. With deletionPolicy Delete the brokers (every broker
   * Deployment, all zones) are stopped first (so nothing writes meanwhile), then the cluster's
   * objects and, if then empty, its bucket are deleted; with Retain the bucket and its data stay
   * for a cluster created again later.
   */
  @Override
  public DeleteControl cleanup(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    String ns = cluster.getMetadata().getNamespace();
    String name = cluster.getMetadata().getName();
    autoscaler.forget(ResourceID.fromResource(cluster));
    checks.forget(ResourceID.fromResource(cluster));
    conditions.forget(ResourceID.fromResource(cluster));
    if (cluster.getSpec().objectStore.deletionPolicy != ObjectStoreSpec.DeletionPolicy.DELETE) {
      LOG.infof(
          "cluster=%s/%s deleted; bucket %s retained",
          ns, name, cluster.getSpec().objectStore.bucket);
      return DeleteControl.defaultDelete();
    }
    // Every broker Deployment: one, or one per zone (and an old one while the zones changed).
    List<Deployment> brokers =
        context
            .getClient()
            .apps()
            .deployments()
            .inNamespace(ns)
            .withLabels(ClusterNames.labels(cluster))
            .list()
            .getItems();
    if (!brokers.isEmpty()) {
      for (Deployment d : brokers) {
        if (d.getMetadata().getDeletionTimestamp() == null) {
          // Foreground: the Deployment stays until its pods are gone, which tells when the
          // brokers have stopped writing.
          context
              .getClient()
              .resource(d)
              .withPropagationPolicy(DeletionPropagation.FOREGROUND)
              .delete();
          LOG.infof(
              "cluster=%s/%s deleting: stopping the brokers of %s before emptying the bucket",
              ns, name, d.getMetadata().getName());
        }
      }
      LOG.debugf(
          "cluster=%s/%s deleting: waiting for %d broker Deployments to stop",
          ns, name, brokers.size());
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofSeconds(2));
    }
    BucketDeletion.Outcome outcome = BucketDeletion.delete(context.getClient(), cluster);
    LOG.infof(
        "cluster=%s/%s deleted: %d objects removed, %s",
        ns, name, outcome.objectsDeleted(), outcome.note());
    return DeleteControl.defaultDelete();
  }

  private static DisklessKafkaCluster statusPatch(
      DisklessKafkaCluster cluster, DisklessKafkaClusterStatus next) {
    DisklessKafkaCluster patch = new DisklessKafkaCluster();
    // Name only, no resourceVersion: the status is computed afresh each time, so a concurrent
    // change of the spec must not turn this patch into a conflict.
    patch.setMetadata(
        new ObjectMetaBuilder()
            .withName(cluster.getMetadata().getName())
            .withNamespace(cluster.getMetadata().getNamespace())
            .build());
    patch.setStatus(next);
    return patch;
  }

  /** What went wrong, briefly: the API server's own message rather than the whole request. */
  static String failure(Throwable e) {
    if (e instanceof AggregatedOperatorException aggregated
        && !aggregated.getAggregatedExceptions().isEmpty()) {
      StringBuilder b = new StringBuilder();
      aggregated
          .getAggregatedExceptions()
          .forEach(
              (dependent, cause) ->
                  b.append(b.isEmpty() ? "" : "; ")
                      .append(dependent)
                      .append(": ")
                      .append(failure(cause)));
      return b.toString();
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof KubernetesClientException k
          && k.getStatus() != null
          && k.getStatus().getMessage() != null) {
        return k.getStatus().getMessage();
      }
    }
    return String.valueOf(e.getMessage());
  }
}
