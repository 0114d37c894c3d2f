package dev.diskless.operator.reconciler.user;

import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.crd.DisklessKafkaUserSpec;
import dev.diskless.operator.crd.DisklessKafkaUserStatus;
import dev.diskless.operator.reconciler.AdminSync;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reconciles a DisklessKafkaUser: the workflow keeps its Secret (a SCRAM password, or a tls user's
 * certificate, renewed before it expires), {@link UserSync} keeps its credential and ACLs in the
 * cluster on threads of its own, and the status says whether they are in step (Ready, with the
 * reason when not). Deleting the user removes both from the cluster before the finalizer goes.
 */
@Workflow(
    dependents = {
      @Dependent(
          type = UserSecretDependentResource.class,
          name = "secret",
          reconcilePrecondition = UserSecretDependentResource.HasCredentials.class)
    })
@ControllerConfiguration(informer = @Informer())
public class DisklessKafkaUserReconciler
    implements Reconciler<DisklessKafkaUser>, Cleaner<DisklessKafkaUser> {

  static final Duration RESYNC = Duration.ofSeconds(30);

  private final SimpleInboundEventSource<DisklessKafkaUser> synced =
      new SimpleInboundEventSource<>("user-sync");

  @Inject UserSync sync;

  @Override
  public List<EventSource<?, DisklessKafkaUser>> prepareEventSources(
      EventSourceContext<DisklessKafkaUser> context) {
    sync.onChange(synced::propagateEvent);
    return List.of(synced);
  }

  @Override
  public UpdateControl<DisklessKafkaUser> reconcile(
      DisklessKafkaUser user, Context<DisklessKafkaUser> context) {
    Optional<AdminSync.Outcome> outcome = sync.latest(user);
    if (outcome.isEmpty()) {
      // The first sync of this spec is under way; its outcome asks for a reconcile.
      return UpdateControl.<DisklessKafkaUser>noUpdate().rescheduleAfter(RESYNC);
    }
    DisklessKafkaUserStatus next =
        status(user, outcome.get(), context.getSecondaryResource(Secret.class));
    if (same(user.getStatus(), next)) {
      return UpdateControl.<DisklessKafkaUser>noUpdate().rescheduleAfter(RESYNC);
    }
    DisklessKafkaUser patch = new DisklessKafkaUser();
    patch.setMetadata(user.getMetadata());
    patch.setStatus(next);
    return UpdateControl.patchStatus(patch).rescheduleAfter(RESYNC);
  }

  @Override
  public DeleteControl cleanup(DisklessKafkaUser user, Context<DisklessKafkaUser> context) {
    Optional<AdminSync.Outcome> removed = sync.delete(user);
    if (removed.isPresent() && removed.get().ready()) {
      return DeleteControl.defaultDelete();
    }
    return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofSeconds(2));
  }

  private static DisklessKafkaUserStatus status(
      DisklessKafkaUser user, AdminSync.Outcome outcome, Optional<Secret> secret) {
    DisklessKafkaUserStatus s = new DisklessKafkaUserStatus();
    s.observedGeneration = user.getMetadata().getGeneration();
    s.username = user.getMetadata().getName();
    s.secret = user.getSpec().authentication != null ? user.getMetadata().getName() : null;
    if (user.getSpec().authentication != null
        && user.getSpec().authentication.type == DisklessKafkaUserSpec.Authentication.Type.TLS) {
      s.certificateNotAfter =
          secret
              .flatMap(TlsUserSecret::certificate)
              .map(c -> c.getNotAfter().toInstant().toString())
              .orElse(null);
    }
    s.conditions.add(
        AdminSync.readyCondition(
            user.getStatus() == null ? null : user.getStatus().conditions,
            outcome,
            user.getMetadata().getGeneration()));
    return s;
  }

  private static boolean same(DisklessKafkaUserStatus a, DisklessKafkaUserStatus b) {
    return a != null
        && Objects.equals(a.observedGeneration, b.observedGeneration)
        && Objects.equals(a.username, b.username)
        && Objects.equals(a.secret, b.secret)
        && Objects.equals(a.certificateNotAfter, b.certificateNotAfter)
        && AdminSync.sameConditions(a.conditions, b.conditions);
  }
}
