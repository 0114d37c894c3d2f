package dev.diskless.operator.reconciler.cluster;

import static dev.diskless.config.BrokerSettingsSchema.*;

import dev.diskless.operator.crd.BrokersSpec;
import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.WalSpec;
import dev.diskless.operator.reconciler.cluster.autoscaling.BrokerCount;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeAffinityBuilder;
import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraintBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.ReconcileResult;
import io.javaoperatorsdk.operator.processing.dependent.CRUDKubernetesBulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.KubernetesBulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jboss.logging.Logger;

/**
 * The brokers: a Deployment, since brokers keep nothing on local disk and need no stable identity
 * (each leases a node id) — one {@code <cluster>-broker}, or with {@code spec.brokers.zones} one
 * {@code <cluster>-broker-<zone>} per zone (a bulk dependent keyed by the Deployment, one per
 * zone), pinned to its zone by a required node affinity, with the brokers split over the zones by
 * {@link BrokerZones#split} and each broker's rack set to its zone. Rolling updates add a broker
 * before removing one (surge 1, unavailable 0); the settings file's digest on the pod template
 * rolls them when it changes; the grace period covers the broker's drain; readiness is the broker's
 * /readyz (registered and serving); the pod meets the restricted Pod Security profile unless the
 * spec's security contexts say otherwise. When the zones change, the Deployments no longer wanted
 * are deleted only once every wanted one runs all its brokers, available: make before break, so
 * that switching never leaves the cluster without brokers, and a zone no Node has keeps the old
 * brokers running.
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class BrokerDeploymentDependentResource
    extends CRUDKubernetesDependentResource<Deployment, DisklessKafkaCluster>
    implements CRUDKubernetesBulkDependentResource<Deployment, DisklessKafkaCluster>,
        KubernetesBulkDependentResource<Deployment, DisklessKafkaCluster> {

  private static final Logger LOG = Logger.getLogger(BrokerDeploymentDependentResource.class);

  /** Used when the spec names no image. */
  public static final String DEFAULT_IMAGE = BrokerImage.defaultImage(System.getenv());

  public static final String CONFIG_HASH = "diskless.dev/config-hash";
  private static final String CONFIG_DIR = "/etc/diskless";

  public BrokerDeploymentDependentResource() {
    super(Deployment.class);
  }

  /**
   * On a scale-in of any broker Deployment, the deletion costs of all the cluster's brokers first,
   * so that the ReplicaSet controller of the shrinking zone removes its least-loaded broker.
   */
  @Override
  public ReconcileResult<Deployment> reconcile(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    Map<String, Integer> wanted = replicasByName(cluster);
    boolean shrinks =
        context
            .getSecondaryResourcesAsStream(Deployment.class)
            .anyMatch(
                current -> {
                  Integer now = current.getSpec().getReplicas();
                  Integer next = wanted.get(current.getMetadata().getName());
                  return now != null && next != null && now > next;
                });
    if (shrinks) {
      BrokerDeletionCost.mark(context.getClient(), cluster);
    }
    return super.reconcile(cluster, context);
  }

  /** The broker Deployments' names and replicas: one without zones, else one per zone. */
  static Map<String, Integer> replicasByName(DisklessKafkaCluster cluster) {
    int brokers = BrokerCount.desired(cluster);
    List<String> zones = BrokerZones.of(cluster);
    Map<String, Integer> out = new LinkedHashMap<>();
    if (zones.isEmpty()) {
      out.put(ClusterNames.brokers(cluster), brokers);
    } else {
      BrokerZones.split(zones, brokers)
          .forEach((zone, n) -> out.put(ClusterNames.zoneBrokers(cluster, zone), n));
    }
    return out;
  }

  @Override
  public Map<ResourceID, Deployment> desiredResources(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    Map<ResourceID, Deployment> out = new LinkedHashMap<>();
    List<String> zones = BrokerZones.of(cluster);
    if (zones.isEmpty()) {
      Deployment d = deployment(cluster, Optional.empty(), BrokerCount.desired(cluster));
      out.put(ResourceID.fromResource(d), d);
    } else {
      BrokerZones.split(zones, BrokerCount.desired(cluster))
          .forEach(
              (zone, n) -> {
                Deployment d = deployment(cluster, Optional.of(zone), n);
                out.put(ResourceID.fromResource(d), d);
              });
    }
    return out;
  }

  /**
   * Make before break: a broker Deployment no longer wanted (the zones changed) goes only once
   * every wanted one exists and runs all its brokers, current and available. Until then the old
   * brokers keep serving; a later reconcile (the new Deployments' status changes are events)
   * deletes it. Its brokers then hand their partitions over on SIGTERM, as in any scale-in.
   */
  @Override
  public void deleteTargetResource(
      DisklessKafkaCluster cluster,
      Deployment resource,
      ResourceID key,
      Context<DisklessKafkaCluster> context) {
    Map<String, Deployment> current = new HashMap<>();
    context
        .getSecondaryResourcesAsStream(Deployment.class)
        .forEach(d -> current.put(d.getMetadata().getName(), d));
    for (var wanted : replicasByName(cluster).entrySet()) {
      Deployment d = current.get(wanted.getKey());
      if (d == null || !runsAll(d, wanted.getValue())) {
        LOG.debugf(
            "cluster=%s/%s keeping %s until %s runs its %d brokers",
            cluster.getMetadata().getNamespace(),
            cluster.getMetadata().getName(),
            resource.getMetadata().getName(),
            wanted.getKey(),
            wanted.getValue());
        return;
      }
    }
    LOG.infof(
        "cluster=%s/%s deleting %s: the brokers now run in %s",
        cluster.getMetadata().getNamespace(),
        cluster.getMetadata().getName(),
        resource.getMetadata().getName(),
        String.join(", ", replicasByName(cluster).keySet()));
    super.deleteTargetResource(cluster, resource, key, context);
  }

  /** Whether the Deployment controller reports {@code replicas} current, available brokers. */
  static boolean runsAll(Deployment d, int replicas) {
    var st = d.getStatus();
    Long generation = d.getMetadata().getGeneration();
    return st != null
        && d.getSpec().getReplicas() != null
        && d.getSpec().getReplicas() == replicas
        && st.getObservedGeneration() != null
        && (generation == null || st.getObservedGeneration() >= generation)
        && count(st.getUpdatedReplicas()) >= replicas
        && count(st.getAvailableReplicas()) >= replicas;
  }

  private static int count(Integer n) {
    return n == null ? 0 : n;
  }

  /**
   * One broker Deployment: the cluster's only one ({@code zone} empty) or the one of a zone, with
   * the zone in its name, labels and selector (so that the zone Deployments never adopt each
   * other's pods) and the pods pinned to the zone.
   */
  static Deployment deployment(DisklessKafkaCluster cluster, Optional<String> zone, int replicas) {
    BrokersSpec brokers = cluster.getSpec().brokers;
    Map<String, String> selector = ClusterNames.brokerSelector(cluster);
    zone.ifPresent(z -> selector.put(BrokerZones.ZONE_LABEL, z));
    Map<String, String> podLabels = new TreeMap<>(brokers.template.labels);
    podLabels.putAll(ClusterNames.labels(cluster));
    zone.ifPresent(z -> podLabels.put(BrokerZones.ZONE_LABEL, z));
    Map<String, String> podAnnotations = new TreeMap<>(brokers.template.annotations);
    podAnnotations.put(
        CONFIG_HASH,
        BrokerSettingsRenderer.hash(BrokerSettingsRenderer.settings(cluster).render()));
    var metadata =
        ClusterNames.metadata(
            cluster,
            zone.map(z -> ClusterNames.zoneBrokers(cluster, z))
                .orElseGet(() -> ClusterNames.brokers(cluster)));
    zone.ifPresent(z -> metadata.getLabels().put(BrokerZones.ZONE_LABEL, z));
    return new DeploymentBuilder()
        .withMetadata(metadata)
        .withNewSpec()
        // The spec's count (kubectl scale, HPA, KEDA) or, with autoscaling, the status's; with
        // zones, this zone's share of it.
        .withReplicas(replicas)
        .withNewSelector()
        .withMatchLabels(selector)
        .endSelector()
        .withNewStrategy()
        .withType("RollingUpdate")
        .withNewRollingUpdate()
        .withMaxSurge(new IntOrString(1))
        .withMaxUnavailable(new IntOrString(0))
        .endRollingUpdate()
        .endStrategy()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(podLabels)
        .withAnnotations(podAnnotations)
        .endMetadata()
        .withSpec(pod(cluster, zone))
        .endTemplate()
        .endSpec()
        .build();
  }

  private static PodSpec pod(DisklessKafkaCluster cluster, Optional<String> zone) {
    BrokersSpec brokers = cluster.getSpec().brokers;
    PodSpecBuilder pod =
        new PodSpecBuilder()
            .withServiceAccountName(ClusterNames.brokers(cluster))
            .withAutomountServiceAccountToken(false)
            // Drain, then a margin for the JVM to exit.
            .withTerminationGracePeriodSeconds(
                BrokerSettingsRenderer.drainTimeout(cluster).toSeconds() + 15)
            .withContainers(container(cluster, zone))
            .addNewVolume()
            .withName("config")
            .withNewConfigMap()
            .withName(ClusterNames.config(cluster))
            .endConfigMap()
            .endVolume()
            .withNodeSelector(brokers.template.nodeSelector)
            .withAffinity(
                zone.map(z -> inZone(brokers.template.affinity, z))
                    .orElse(brokers.template.affinity))
            .withTolerations(brokers.template.tolerations)
            .withPriorityClassName(brokers.template.priorityClassName)
            .withImagePullSecrets(brokers.template.imagePullSecrets)
            .withSecurityContext(podSecurity(brokers.template.securityContext))
            .withTopologySpreadConstraints(spread(cluster, zone.isPresent()));
    for (ClusterListeners.Listener l : ClusterListeners.of(cluster).all()) {
      if (l.tlsSecret().isPresent()) {
        // A renewed certificate reaches the mounted files, and the broker serves it to new
        // connections without a restart.
        pod.addNewVolume()
            .withName(tlsVolume(l))
            .withNewSecret()
            .withSecretName(l.tlsSecret().get())
            .endSecret()
            .endVolume();
      }
    }
    if (ClusterListeners.of(cluster).clientCertificates()) {
      // Only the certificate: the CA's key stays with the operator.
      pod.addNewVolume()
          .withName(CLIENTS_CA_VOLUME)
          .withNewSecret()
          .withSecretName(ClientsCaDependentResource.name(cluster))
          .addNewItem()
          .withKey(ClientsCaDependentResource.CERTIFICATE_KEY)
          .withPath(ClientsCaDependentResource.CERTIFICATE_KEY)
          .endItem()
          .endSecret()
          .endVolume();
    }
    if (cluster.getSpec().wal.type == WalSpec.Type.VOLUME) {
      pod.addNewVolume()
          .withName("wal")
          .withNewPersistentVolumeClaim()
          .withClaimName(ClusterNames.walVolume(cluster))
          .endPersistentVolumeClaim()
          .endVolume();
    }
    return pod.build();
  }

  private static Container container(DisklessKafkaCluster cluster, Optional<String> zone) {
    BrokersSpec brokers = cluster.getSpec().brokers;
    ContainerBuilder c =
        new ContainerBuilder()
            .withName("broker")
            .withImage(brokers.image != null ? brokers.image : DEFAULT_IMAGE)
            .withArgs("--config", CONFIG_DIR + "/" + BrokerConfigMapDependentResource.FILE)
            .withEnv(env(cluster, zone))
            .withPorts(kafkaPorts(cluster))
            .addNewPort()
            .withName("http")
            .withContainerPort(cluster.getSpec().listeners.httpPort)
            .withProtocol("TCP")
            .endPort()
            .withNewReadinessProbe()
            .withNewHttpGet()
            .withPath("/readyz")
            .withPort(new IntOrString("http"))
            .endHttpGet()
            // Every second: a new broker joins the bootstrap Service (and a rolling update or
            // scale-out moves on) as soon as it has registered, not up to a period later; three
            // misses in a row take it out.
            .withPeriodSeconds(1)
            .withFailureThreshold(3)
            .endReadinessProbe()
            .withNewLivenessProbe()
            .withNewHttpGet()
            .withPath("/healthz")
            .withPort(new IntOrString("http"))
            .endHttpGet()
            .withPeriodSeconds(10)
            .withFailureThreshold(6)
            .endLivenessProbe()
            .withResources(brokers.resources)
            .withSecurityContext(containerSecurity(brokers.template.containerSecurityContext))
            .addNewVolumeMount()
            .withName("config")
            .withMountPath(CONFIG_DIR)
            .withReadOnly(true)
            .endVolumeMount();
    for (ClusterListeners.Listener l : ClusterListeners.of(cluster).all()) {
      if (l.tlsSecret().isPresent()) {
        c.addNewVolumeMount()
            .withName(tlsVolume(l))
            .withMountPath(l.tlsDir())
            .withReadOnly(true)
            .endVolumeMount();
      }
    }
    if (ClusterListeners.of(cluster).clientCertificates()) {
      c.addNewVolumeMount()
          .withName(CLIENTS_CA_VOLUME)
          .withMountPath(ClusterListeners.CLIENTS_CA_DIR)
          .withReadOnly(true)
          .endVolumeMount();
    }
    if (cluster.getSpec().wal.type == WalSpec.Type.VOLUME) {
      c.addNewVolumeMount()
          .withName("wal")
          .withMountPath(BrokerSettingsRenderer.WAL_MOUNT)
          .endVolumeMount();
    }
    return c.build();
  }

  /**
   * The spec's pod security context with every field it leaves unset at the restricted Pod Security
   * profile's value, so that the brokers run in a namespace enforcing that profile without anyone
   * having to know what it asks. The broker image runs as a numeric non-root user (10001), which
   * runAsNonRoot needs. A field set in the spec wins, false and Unconfined included.
   */
  static PodSecurityContext podSecurity(PodSecurityContext given) {
    PodSecurityContextBuilder out =
        given == null ? new PodSecurityContextBuilder() : new PodSecurityContextBuilder(given);
    if (given == null || given.getRunAsNonRoot() == null) {
      out.withRunAsNonRoot(true);
    }
    if (given == null || given.getSeccompProfile() == null) {
      out.withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile();
    }
    return out.build();
  }

  /**
   * The spec's container security context with the restricted profile's container-only fields
   * filled in where it leaves them unset: no privilege escalation, no capabilities (the broker
   * binds ports above 1024 and needs none). Capabilities given in the spec replace the default as a
   * whole.
   */
  static SecurityContext containerSecurity(SecurityContext given) {
    SecurityContextBuilder out =
        given == null ? new SecurityContextBuilder() : new SecurityContextBuilder(given);
    if (given == null || given.getAllowPrivilegeEscalation() == null) {
      out.withAllowPrivilegeEscalation(false);
    }
    if (given == null || given.getCapabilities() == null) {
      out.withNewCapabilities().withDrop("ALL").endCapabilities();
    }
    return out.build();
  }

  /** One container port per Kafka listener, named as the Services target it. */
  static List<ContainerPort> kafkaPorts(DisklessKafkaCluster cluster) {
    ClusterListeners listeners = ClusterListeners.of(cluster);
    List<ContainerPort> out = new ArrayList<>();
    for (ClusterListeners.Listener l : listeners.all()) {
      out.add(
          new ContainerPortBuilder()
              .withName(listeners.portName(l))
              .withContainerPort(l.port())
              .withProtocol("TCP")
              .build());
    }
    return out;
  }

  /** The volume of the clients CA's certificate. */
  static final String CLIENTS_CA_VOLUME = "clients-ca";

  private static String tlsVolume(ClusterListeners.Listener l) {
    return "tls-" + l.name();
  }

  /** Identity from the pod itself, secrets from their Secrets; never in the ConfigMap. */
  private static List<EnvVar> env(DisklessKafkaCluster cluster, Optional<String> zone) {
    List<EnvVar> env = new ArrayList<>();
    env.add(fieldRef(INSTANCE_ID.envVar(), "metadata.name"));
    env.add(fieldRef(ADVERTISED_HOST.envVar(), "status.podIP"));
    if (zone.isPresent()) {
      env.add(new EnvVarBuilder().withName(RACK.envVar()).withValue(zone.get()).build());
    } else {
      // From Kubernetes 1.35 the API server copies the Node's zone label onto the pod at binding
      // (KEP-4742); without it the variable is empty, which the broker reads as no rack.
      env.add(fieldRef(RACK.envVar(), "metadata.labels['" + BrokerZones.TOPOLOGY_ZONE + "']"));
    }
    var db = cluster.getSpec().metadata.credentialsSecret;
    env.add(secretRef(METADATA_USER.envVar(), db.name, db.usernameKey));
    env.add(secretRef(METADATA_PASSWORD.envVar(), db.name, db.passwordKey));
    var s3 = cluster.getSpec().objectStore.credentialsSecret;
    if (s3 != null) {
      env.add(secretRef(OBJECT_STORE_ACCESS_KEY_ID.envVar(), s3.name, s3.accessKeyIdKey));
      env.add(secretRef(OBJECT_STORE_SECRET_ACCESS_KEY.envVar(), s3.name, s3.secretAccessKeyKey));
    }
    if (ClusterListeners.of(cluster).sasl()) {
      env.add(
          secretRef(
              SASL_BOOTSTRAP_PASSWORD.envVar(),
              OperatorCredentialsDependentResource.name(cluster),
              OperatorCredentialsDependentResource.PASSWORD_KEY));
    }
    if (!cluster.getSpec().brokers.jvmOptions.isEmpty()) {
      // Read by the JVM itself, before the broker starts.
      env.add(
          new EnvVarBuilder()
              .withName("JAVA_TOOL_OPTIONS")
              .withValue(String.join(" ", cluster.getSpec().brokers.jvmOptions))
              .build());
    }
    return env;
  }

  /**
   * The spec's spread, or by default over zones and then nodes, best effort; a zone Deployment's
   * pods are in one zone already, so they spread over nodes only (across the whole cluster's
   * brokers).
   */
  private static List<TopologySpreadConstraint> spread(
      DisklessKafkaCluster cluster, boolean pinnedToZone) {
    List<TopologySpreadConstraint> given =
        cluster.getSpec().brokers.template.topologySpreadConstraints;
    if (!given.isEmpty()) {
      return given;
    }
    List<TopologySpreadConstraint> out = new ArrayList<>();
    List<String> keys =
        pinnedToZone
            ? List.of("kubernetes.io/hostname")
            : List.of(BrokerZones.TOPOLOGY_ZONE, "kubernetes.io/hostname");
    for (String key : keys) {
      out.add(
          new TopologySpreadConstraintBuilder()
              .withMaxSkew(1)
              .withTopologyKey(key)
              .withWhenUnsatisfiable("ScheduleAnyway")
              .withNewLabelSelector()
              .withMatchLabels(ClusterNames.brokerSelector(cluster))
              .endLabelSelector()
              .build());
    }
    return out;
  }

  /**
   * The spec's affinity with the zone required: the zone's requirement is added to every node
   * selector term (terms are ORed, their expressions ANDed), or is the only term when the spec
   * requires nothing. Preferences and pod (anti-)affinity are kept as given.
   */
  static Affinity inZone(Affinity given, String zone) {
    NodeSelectorRequirement inZone =
        new NodeSelectorRequirementBuilder()
            .withKey(BrokerZones.TOPOLOGY_ZONE)
            .withOperator("In")
            .withValues(zone)
            .build();
    AffinityBuilder out = given == null ? new AffinityBuilder() : new AffinityBuilder(given);
    NodeAffinity node =
        given == null || given.getNodeAffinity() == null
            ? new NodeAffinity()
            : new NodeAffinityBuilder(given.getNodeAffinity()).build();
    List<NodeSelectorTerm> terms = new ArrayList<>();
    NodeSelector required = node.getRequiredDuringSchedulingIgnoredDuringExecution();
    if (required != null && required.getNodeSelectorTerms() != null) {
      for (NodeSelectorTerm t : required.getNodeSelectorTerms()) {
        terms.add(new NodeSelectorTermBuilder(t).addToMatchExpressions(inZone).build());
      }
    }
    if (terms.isEmpty()) {
      terms.add(new NodeSelectorTermBuilder().addToMatchExpressions(inZone).build());
    }
    node.setRequiredDuringSchedulingIgnoredDuringExecution(
        new NodeSelectorBuilder().withNodeSelectorTerms(terms).build());
    return out.withNodeAffinity(node).build();
  }

  private static EnvVar fieldRef(String name, String path) {
    return new EnvVarBuilder()
        .withName(name)
        .withNewValueFrom()
        .withNewFieldRef()
        .withFieldPath(path)
        .endFieldRef()
        .endValueFrom()
        .build();
  }

  private static EnvVar secretRef(String name, String secret, String key) {
    return new EnvVarBuilder()
        .withName(name)
        .withNewValueFrom()
        .withNewSecretKeyRef()
        .withName(secret)
        .withKey(key)
        .endSecretKeyRef()
        .endValueFrom()
        .build();
  }
}
