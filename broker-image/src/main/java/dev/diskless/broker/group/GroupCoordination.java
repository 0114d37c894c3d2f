package dev.diskless.broker.group;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.ops.KafkaMetricsBridge;
import dev.diskless.broker.txn.TransactionVerifier;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionMetadata;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.Plugin;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.coordinator.group.GroupConfigManager;
import org.apache.kafka.coordinator.group.GroupCoordinator;
import org.apache.kafka.coordinator.group.GroupCoordinatorConfig;
import org.apache.kafka.coordinator.group.GroupCoordinatorService;
import org.apache.kafka.coordinator.group.metrics.GroupCoordinatorMetrics;
import org.apache.kafka.coordinator.group.metrics.GroupCoordinatorRuntimeMetrics;
import org.apache.kafka.coordinator.group.modern.share.ShareGroupConfig;
import org.apache.kafka.server.authorizer.Authorizer;
import org.apache.kafka.server.share.persister.NoOpStatePersister;
import org.apache.kafka.server.util.PartitionMetadataClient;
import org.apache.kafka.server.util.timer.SystemTimer;
import org.apache.kafka.server.util.timer.SystemTimerReaper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Apache Kafka's group coordinator (classic and KIP-848 consumer groups, offsets) inside this
 * broker, over the offsets topic kept by the storage engine. Whoever owns an offsets-topic
 * partition is the coordinator for the groups that hash to it: {@link #reconcile()} elects this
 * broker for the partitions it has opened and resigns the ones it lost, so moving a partition's
 * ownership moves its groups (the new owner replays the log). A write the storage engine did not
 * commit makes that partition's coordinator reload from the committed log, so in-memory group state
 * never runs ahead of what is durable.
 */
public final class GroupCoordination implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GroupCoordination.class);

  private final int nodeId;
  private final OffsetsTopic topic;
  private final StorageEngine engine;
  private final ClusterView view;
  private final GroupCoordinatorService service;
  private final CoordinatorPartitionWriter writer;
  private final MetadataImages images = new MetadataImages();
  private final Metrics kafkaMetrics;
  private final Map<Integer, Integer> elected = new HashMap<>();
  private volatile boolean closed;

  private GroupCoordination(
      int nodeId,
      OffsetsTopic topic,
      StorageEngine engine,
      ClusterView view,
      TransactionVerifier verifier,
      Map<String, String> settings,
      MeterRegistry meters,
      Optional<Plugin<Authorizer>> authorizer) {
    this.kafkaMetrics =
        new Metrics(new MetricConfig(), List.of(new KafkaMetricsBridge(meters)), Time.SYSTEM);
    this.nodeId = nodeId;
    this.topic = topic;
    this.engine = engine;
    this.view = view;
    Map<String, Object> props = new HashMap<>(settings);
    // The topic's stored partition count wins over configuration: groups hash onto it.
    props.put(GroupCoordinatorConfig.OFFSETS_TOPIC_PARTITIONS_CONFIG, topic.partitions());
    GroupCoordinatorConfig config = GroupCoordinatorConfig.fromProps(props);
    this.writer = new CoordinatorPartitionWriter(topic, engine, verifier, this::writeLost);
    CoordinatorLogLoader loader =
        new CoordinatorLogLoader(topic, engine.logs(), engine.reader(), writer);
    this.service =
        new GroupCoordinatorService.Builder(nodeId, config)
            .withTime(Time.SYSTEM)
            .withTimer(
                new SystemTimerReaper(
                    "group-coordinator-reaper", new SystemTimer("group-coordinator")))
            .withWriter(writer)
            .withLoader(loader)
            .withCoordinatorRuntimeMetrics(new GroupCoordinatorRuntimeMetrics(kafkaMetrics))
            .withGroupCoordinatorMetrics(
                new GroupCoordinatorMetrics(
                    new com.yammer.metrics.core.MetricsRegistry(), kafkaMetrics))
            .withGroupConfigManager(
                new GroupConfigManager(config, ShareGroupConfig.fromProps(props)))
            .withPersister(new NoOpStatePersister())
            .withAuthorizerPlugin(authorizer)
            .withPartitionMetadataClient(new LatestOffsets())
            .build();
  }

  /**
   * Starts the coordinator; it serves no group until {@link #reconcile()} finds offsets-topic
   * partitions this broker owns.
   *
   * @param verifier checks that a transactional offset commit's transaction holds the offsets
   *     partition
   * @param settings Kafka group coordinator properties (group.*, offsets.*, group.consumer.*)
   * @param meters where the coordinator's own Kafka metrics are published
   */
  public static GroupCoordination start(
      int nodeId,
      OffsetsTopic topic,
      StorageEngine engine,
      ClusterView view,
      TransactionVerifier verifier,
      Map<String, String> settings,
      MeterRegistry meters,
      Optional<Plugin<Authorizer>> authorizer) {
    GroupCoordination g =
        new GroupCoordination(nodeId, topic, engine, view, verifier, settings, meters, authorizer);
    g.service.startup(topic::partitions);
    g.metadataChanged(view.current());
    view.addListener(g::metadataChanged);
    return g;
  }

  public GroupCoordinator coordinator() {
    return service;
  }

  public OffsetsTopic topic() {
    return topic;
  }

  private synchronized void metadataChanged(ClusterView.Snapshot snapshot) {
    if (closed) {
      return;
    }
    MetadataImages.Update update = images.update(snapshot.topicsByName().values());
    if (update != null) {
      service.onMetadataUpdate(update.delta(), update.image());
    }
  }

  /** Elects this broker for the offsets-topic partitions it owns and resigns the others. */
  public synchronized void reconcile() {
    if (closed) {
      return;
    }
    for (int p = 0; p < topic.partitions(); p++) {
      Optional<PartitionMetadata> local = engine.logs().local(topic.partition(p));
      Integer epoch = elected.get(p);
      if (local.isPresent() && (epoch == null || epoch < local.get().leaderEpoch())) {
        if (epoch != null) {
          resign(p);
        }
        int e = local.get().leaderEpoch();
        LOG.info(
            "partition={}-{} epoch={} node={} becomes group coordinator",
            OffsetsTopic.NAME,
            p,
            e,
            nodeId);
        elected.put(p, e);
        service.onElection(p, e);
      } else if (local.isEmpty() && epoch != null) {
        LOG.info(
            "partition={}-{} epoch={} node={} resigns as group coordinator",
            OffsetsTopic.NAME,
            p,
            epoch,
            nodeId);
        resign(p);
      }
    }
  }

  private void resign(int partition) {
    elected.remove(partition);
    writer.forget(partition);
    // No epoch: unload unconditionally (Kafka passes the next leader's epoch, which we may not
    // know).
    service.onResignation(partition, OptionalInt.empty());
  }

  /** A write was not committed: replay the committed log before serving this partition again. */
  private synchronized void writeLost(int partition) {
    if (closed) {
      return;
    }
    if (elected.containsKey(partition)) {
      resign(partition);
    }
    // Elects (and so reloads) it again at once if this broker still owns it.
    reconcile();
  }

  /** Answers the coordinator's "latest offset" questions from the storage engine's bounds. */
  private final class LatestOffsets implements PartitionMetadataClient {
    @Override
    public Map<TopicPartition, CompletableFuture<OffsetResponse>> listLatestOffsets(
        Set<TopicPartition> partitions) {
      Map<TopicPartition, CompletableFuture<OffsetResponse>> out = new HashMap<>();
      for (TopicPartition tp : partitions) {
        out.put(tp, latest(tp));
      }
      return out;
    }

    private CompletableFuture<OffsetResponse> latest(TopicPartition tp) {
      var info = view.current().topic(tp.topic());
      if (info.isEmpty() || tp.partition() < 0 || tp.partition() >= info.get().partitionCount()) {
        return CompletableFuture.completedFuture(
            new OffsetResponse(-1, Errors.UNKNOWN_TOPIC_OR_PARTITION));
      }
      return engine
          .reader()
          .bounds(new TopicPartitionId(info.get().topicId(), tp.partition()))
          .thenApply(m -> new OffsetResponse(m.highWatermark(), Errors.NONE))
          .exceptionally(t -> new OffsetResponse(-1, Errors.KAFKA_STORAGE_ERROR));
    }

    @Override
    public void close() {}
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    service.shutdown();
    kafkaMetrics.close();
  }
}
