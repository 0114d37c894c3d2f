package dev.diskless.operator.reconciler.topic;

import dev.diskless.operator.crd.DisklessKafkaTopic;
import dev.diskless.operator.crd.DisklessKafkaTopicSpec;
import dev.diskless.operator.reconciler.AdminSync;
import dev.diskless.operator.reconciler.ClusterAdminAccess;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Keeps each DisklessKafkaTopic's topic in its cluster as the spec says, through the cluster's
 * Admin API ({@link AdminSync}: off the reconcile thread, resynced every minute): created when
 * missing (an existing one is adopted), partitions grown (never shrunk: a decrease is refused with
 * a reason), and the topic's own configs made exactly the spec's (set where they differ, deleted
 * where the spec has none), as the brokers validate them. Deleting the resource deletes the topic
 * only with deletionPolicy Delete.
 */
@Singleton
public class TopicSync extends AdminSync<DisklessKafkaTopic> {

  /** What the last sync saw of a topic, for the status. */
  public record Observed(String topicId, int partitions) {}

  private final KubernetesClient client;
  private final Map<ResourceID, Observed> observed = new ConcurrentHashMap<>();

  @Inject
  public TopicSync(KubernetesClient client) {
    super("diskless-topic-sync");
    this.client = client;
  }

  @PreDestroy
  void shutdown() {
    stop();
  }

  /** The topic's name in Kafka: the spec's topicName, else the resource's name. */
  public static String topicName(DisklessKafkaTopic topic) {
    return topic.getSpec().topicName != null
        ? topic.getSpec().topicName
        : topic.getMetadata().getName();
  }

  /** What the last sync saw of the topic. */
  public Optional<Observed> observed(DisklessKafkaTopic topic) {
    return Optional.ofNullable(observed.get(ResourceID.fromResource(topic)));
  }

  @Override
  protected Outcome apply(ResourceID id, DisklessKafkaTopic topic) {
    DisklessKafkaTopicSpec spec = topic.getSpec();
    ClusterAdminAccess.Access access =
        ClusterAdminAccess.of(client, topic.getMetadata().getNamespace(), spec.cluster);
    if (access.refusal().isPresent()) {
      return new Outcome(false, access.refusal().get().reason(), access.refusal().get().message());
    }
    String name = topicName(topic);
    try (Admin admin = Admin.create(access.configs().get())) {
      Optional<TopicDescription> current = describe(admin, name);
      boolean created = false;
      if (current.isEmpty()) {
        try {
          admin
              .createTopics(
                  List.of(
                      new NewTopic(name, Optional.of(spec.partitions), Optional.empty())
                          .configs(spec.configs)))
              .all()
              .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          return refused("CreateRefused", e);
        }
        created = true;
        current = describe(admin, name);
        if (current.isEmpty()) {
          return new Outcome(false, "TopicPending", "topic " + name + " created, not yet listed");
        }
      }
      int partitions = current.get().partitions().size();
      observed.put(id, new Observed(current.get().topicId().toString(), partitions));
      if (spec.partitions > partitions) {
        try {
          admin
              .createPartitions(Map.of(name, NewPartitions.increaseTo(spec.partitions)))
              .all()
              .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          return refused("PartitionIncreaseRefused", e);
        }
        partitions = spec.partitions;
        observed.put(id, new Observed(current.get().topicId().toString(), partitions));
      }
      int changedConfigs = created ? 0 : syncConfigs(admin, name, spec.configs);
      if (spec.partitions < partitions) {
        return new Outcome(
            false,
            "PartitionDecreaseRefused",
            "topic "
                + name
                + " has "
                + partitions
                + " partitions; Kafka cannot remove partitions, so partitions must be at least "
                + partitions);
      }
      return new Outcome(
          true,
          created ? "Created" : "InSync",
          "topic "
              + name
              + ": "
              + partitions
              + " partitions, "
              + spec.configs.size()
              + " configs"
              + (changedConfigs > 0 ? " (" + changedConfigs + " changed in the last sync)" : ""));
    } catch (ExecutionException e) {
      return refused("ConfigRefused", e);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Outcome(false, "AdminRequestFailed", e.toString());
    }
  }

  @Override
  protected Outcome remove(ResourceID id, DisklessKafkaTopic topic) {
    observed.remove(id);
    if (topic.getSpec().deletionPolicy != DisklessKafkaTopicSpec.DeletionPolicy.DELETE) {
      return new Outcome(true, "Retained", "deletionPolicy Retain: the topic is kept");
    }
    ClusterAdminAccess.Access access =
        ClusterAdminAccess.of(client, topic.getMetadata().getNamespace(), topic.getSpec().cluster);
    if (access.refusal().filter(r -> r.reason().equals("ClusterNotFound")).isPresent()) {
      return new Outcome(true, "ClusterGone", "the cluster no longer exists");
    }
    if (access.refusal().isPresent()) {
      return new Outcome(false, access.refusal().get().reason(), access.refusal().get().message());
    }
    try (Admin admin = Admin.create(access.configs().get())) {
      admin.deleteTopics(List.of(topicName(topic))).all().get(30, TimeUnit.SECONDS);
      return new Outcome(true, "Deleted", "topic deleted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return new Outcome(true, "Deleted", "topic already gone");
      }
      return refused("DeleteRefused", e);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Outcome(false, "AdminRequestFailed", e.toString());
    }
  }

  private static Optional<TopicDescription> describe(Admin admin, String name) throws Exception {
    try {
      return Optional.of(
          admin.describeTopics(List.of(name)).allTopicNames().get(30, TimeUnit.SECONDS).get(name));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * Makes the topic's own configs (source DYNAMIC_TOPIC_CONFIG) exactly {@code wanted}; returns how
   * many changed.
   */
  private static int syncConfigs(Admin admin, String name, Map<String, String> wanted)
      throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
    Map<String, String> own = new HashMap<>();
    for (ConfigEntry e :
        admin
            .describeConfigs(List.of(resource))
            .all()
            .get(30, TimeUnit.SECONDS)
            .get(resource)
            .entries()) {
      if (e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
        own.put(e.name(), e.value());
      }
    }
    Collection<AlterConfigOp> ops = new ArrayList<>();
    wanted.forEach(
        (k, v) -> {
          if (!v.equals(own.get(k))) {
            ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET));
          }
        });
    own.keySet().stream()
        .filter(k -> !wanted.containsKey(k))
        .forEach(
            k -> ops.add(new AlterConfigOp(new ConfigEntry(k, null), AlterConfigOp.OpType.DELETE)));
    if (!ops.isEmpty()) {
      admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get(30, TimeUnit.SECONDS);
    }
    return ops.size();
  }

  /** The broker's refusal, with its own message, as the reason's detail. */
  private static Outcome refused(String reason, ExecutionException e) {
    Throwable cause = e.getCause();
    return new Outcome(false, reason, cause.getClass().getSimpleName() + ": " + cause.getMessage());
  }
}
