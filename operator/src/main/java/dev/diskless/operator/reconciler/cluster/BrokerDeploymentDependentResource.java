package dev.diskless.operator.reconciler.cluster;

import static dev.diskless.config.BrokerSettingsSchema.*;

import dev.diskless.operator.crd.BrokersSpec;
import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.WalSpec;
import dev.diskless.operator.reconciler.cluster.autoscaling.BrokerCount;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraintBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.ReconcileResult;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The brokers: a Deployment, since brokers keep nothing on local disk and need no stable identity
 * (each leases a node id). Rolling updates add a broker before removing one (surge 1, unavailable
 * 0); the settings file's digest on the pod template rolls them when it changes; the grace period
 * covers the broker's drain; readiness is the broker's /readyz (registered and serving).
 */
@KubernetesDependent(informer = @Informer(labelSelector = ClusterNames.MANAGED_SELECTOR))
public class BrokerDeploymentDependentResource
    extends CRUDKubernetesDependentResource<Deployment, DisklessKafkaCluster> {

  /** Used when the spec names no image. */
  public static final String DEFAULT_IMAGE = "diskless/broker:0.1.0-SNAPSHOT";

  public static final String CONFIG_HASH = "diskless.dev/config-hash";
  private static final String CONFIG_DIR = "/etc/diskless";

  public BrokerDeploymentDependentResource() {
    super(Deployment.class);
  }

  /**
   * On a scale-in, the brokers' deletion costs first, so that the ReplicaSet controller removes the
   * least-loaded brokers.
   */
  @Override
  public ReconcileResult<Deployment> reconcile(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    context
        .getSecondaryResource(Deployment.class)
        .filter(
            current ->
                current.getSpec().getReplicas() != null
                    && current.getSpec().getReplicas() > BrokerCount.desired(cluster))
        .ifPresent(current -> BrokerDeletionCost.mark(context.getClient(), cluster));
    return super.reconcile(cluster, context);
  }

  @Override
  protected Deployment desired(
      DisklessKafkaCluster cluster, Context<DisklessKafkaCluster> context) {
    BrokersSpec brokers = cluster.getSpec().brokers;
    Map<String, String> podLabels = new TreeMap<>(brokers.template.labels);
    podLabels.putAll(ClusterNames.labels(cluster));
    Map<String, String> podAnnotations = new TreeMap<>(brokers.template.annotations);
    podAnnotations.put(
        CONFIG_HASH,
        BrokerSettingsRenderer.hash(BrokerSettingsRenderer.settings(cluster).render()));
    return new DeploymentBuilder()
        .withMetadata(ClusterNames.metadata(cluster, ClusterNames.brokers(cluster)))
        .withNewSpec()
        // The spec's count (kubectl scale, HPA, KEDA) or, with autoscaling, the status's.
        .withReplicas(BrokerCount.desired(cluster))
        .withNewSelector()
        .withMatchLabels(ClusterNames.brokerSelector(cluster))
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
        .withSpec(pod(cluster))
        .endTemplate()
        .endSpec()
        .build();
  }

  private static PodSpec pod(DisklessKafkaCluster cluster) {
    BrokersSpec brokers = cluster.getSpec().brokers;
    PodSpecBuilder pod =
        new PodSpecBuilder()
            .withServiceAccountName(ClusterNames.brokers(cluster))
            .withAutomountServiceAccountToken(false)
            // Drain, then a margin for the JVM to exit.
            .withTerminationGracePeriodSeconds(
                BrokerSettingsRenderer.drainTimeout(cluster).toSeconds() + 15)
            .withContainers(container(cluster))
            .addNewVolume()
            .withName("config")
            .withNewConfigMap()
            .withName(ClusterNames.config(cluster))
            .endConfigMap()
            .endVolume()
            .withNodeSelector(brokers.template.nodeSelector)
            .withAffinity(brokers.template.affinity)
            .withTolerations(brokers.template.tolerations)
            .withPriorityClassName(brokers.template.priorityClassName)
            .withTopologySpreadConstraints(spread(cluster));
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

  private static Container container(DisklessKafkaCluster cluster) {
    BrokersSpec brokers = cluster.getSpec().brokers;
    ContainerBuilder c =
        new ContainerBuilder()
            .withName("broker")
            .withImage(brokers.image != null ? brokers.image : DEFAULT_IMAGE)
            .withArgs("--config", CONFIG_DIR + "/" + BrokerConfigMapDependentResource.FILE)
            .withEnv(env(cluster))
            .addNewPort()
            .withName("kafka")
            .withContainerPort(cluster.getSpec().listeners.kafkaPort)
            .withProtocol("TCP")
            .endPort()
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
            .withPeriodSeconds(5)
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
            .addNewVolumeMount()
            .withName("config")
            .withMountPath(CONFIG_DIR)
            .withReadOnly(true)
            .endVolumeMount();
    if (cluster.getSpec().wal.type == WalSpec.Type.VOLUME) {
      c.addNewVolumeMount()
          .withName("wal")
          .withMountPath(BrokerSettingsRenderer.WAL_MOUNT)
          .endVolumeMount();
    }
    return c.build();
  }

  /** Identity from the pod itself, secrets from their Secrets; never in the ConfigMap. */
  private static List<EnvVar> env(DisklessKafkaCluster cluster) {
    List<EnvVar> env = new ArrayList<>();
    env.add(fieldRef(INSTANCE_ID.envVar(), "metadata.name"));
    env.add(fieldRef(ADVERTISED_HOST.envVar(), "status.podIP"));
    var db = cluster.getSpec().metadata.credentialsSecret;
    env.add(secretRef(METADATA_USER.envVar(), db.name, db.usernameKey));
    env.add(secretRef(METADATA_PASSWORD.envVar(), db.name, db.passwordKey));
    var s3 = cluster.getSpec().objectStore.credentialsSecret;
    if (s3 != null) {
      env.add(secretRef(OBJECT_STORE_ACCESS_KEY_ID.envVar(), s3.name, s3.accessKeyIdKey));
      env.add(secretRef(OBJECT_STORE_SECRET_ACCESS_KEY.envVar(), s3.name, s3.secretAccessKeyKey));
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

  /** The spec's spread, or by default over zones and then nodes, best effort. */
  private static List<TopologySpreadConstraint> spread(DisklessKafkaCluster cluster) {
    List<TopologySpreadConstraint> given =
        cluster.getSpec().brokers.template.topologySpreadConstraints;
    if (!given.isEmpty()) {
      return given;
    }
    List<TopologySpreadConstraint> out = new ArrayList<>();
    for (String key : List.of("topology.kubernetes.io/zone", "kubernetes.io/hostname")) {
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
