package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.AutoscalingStatus;
import dev.diskless.operator.crd.DisklessKafkaCluster;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jboss.logging.Logger;

/**
 * A Kubernetes Event on the cluster for each change of the broker count the autoscaler decided
 * (ScaledOut or ScaledIn, with its reason), so that {@code kubectl describe dkc} tells the story.
 */
final class ScaleEvents {

  private static final Logger LOG = Logger.getLogger(ScaleEvents.class);

  private ScaleEvents() {}

  /** Best effort: an Event the API server refuses is logged; the scaling goes on. */
  static void record(KubernetesClient client, DisklessKafkaCluster cluster, AutoscalingStatus a) {
    String ns = cluster.getMetadata().getNamespace();
    String name = cluster.getMetadata().getName();
    String at = Instant.parse(a.lastScaleTime).truncatedTo(ChronoUnit.SECONDS).toString();
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(name + ".autoscale." + Long.toHexString(Instant.parse(at).getEpochSecond()))
            .withNamespace(ns)
            .endMetadata()
            .withNewInvolvedObject()
            .withApiVersion(cluster.getApiVersion())
            .withKind(cluster.getKind())
            .withName(name)
            .withNamespace(ns)
            .withUid(cluster.getMetadata().getUid())
            .endInvolvedObject()
            .withType("Normal")
            .withReason("Up".equals(a.lastScaleDirection) ? "ScaledOut" : "ScaledIn")
            .withMessage(a.desiredBrokers + " brokers: " + a.lastScaleReason)
            .withFirstTimestamp(at)
            .withLastTimestamp(at)
            .withCount(1)
            .withNewSource()
            .withComponent(ClusterNames.MANAGED_BY)
            .endSource()
            .withReportingComponent(ClusterNames.MANAGED_BY)
            .build();
    try {
      client.v1().events().inNamespace(ns).resource(event).create();
    } catch (KubernetesClientException e) {
      LOG.warnf("cluster=%s/%s scale event not recorded: %s", ns, name, e.getMessage());
    }
  }
}
