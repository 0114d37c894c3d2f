package dev.diskless.broker.group;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.coordinator.group.GroupCoordinator;
import org.apache.kafka.server.authorizer.AuthorizableRequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer lag per group and partition, exported by the broker that coordinates the group: every
 * interval it lists the groups it coordinates, reads their committed offsets from its coordinator
 * and the partitions' committed high watermarks from PostgreSQL (one query per 500 partitions), and
 * sets {@code diskless.consumer.lag{group,topic,partition}} (the high watermark minus the committed
 * offset, never below zero) and {@code diskless.consumer.group.lag{group}} (their sum). Each group
 * is reported by exactly one broker, so summing the series across brokers counts every group once;
 * rows of groups that moved away, were deleted or stopped committing a partition disappear at the
 * next pass. Share groups, which keep no committed offsets, are left out.
 */
public final class ConsumerLag implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLag.class);

  private final GroupCoordinator coordinator;
  private final ClusterView view;
  private final PartitionOwnership ownership;
  private final MultiGauge partitionLag;
  private final MultiGauge groupLag;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("consumer-lag").daemon().factory());
  private final AtomicBoolean measuring = new AtomicBoolean();
  private boolean closed;

  private ConsumerLag(
      GroupCoordinator coordinator,
      ClusterView view,
      PartitionOwnership ownership,
      MeterRegistry meters) {
    this.coordinator = coordinator;
    this.view = view;
    this.ownership = ownership;
    this.partitionLag =
        MultiGauge.builder("diskless.consumer.lag")
            .description(
                "Records a consumer group has yet to read from a partition: the committed high"
                    + " watermark minus the group's committed offset")
            .baseUnit("records")
            .register(meters);
    this.groupLag =
        MultiGauge.builder("diskless.consumer.group.lag")
            .description("Records a consumer group has yet to read, over all its partitions")
            .baseUnit("records")
            .register(meters);
  }

  /** Measures every {@code interval}, the first time after one interval. */
  public static ConsumerLag start(
      GroupCoordinator coordinator,
      ClusterView view,
      PartitionOwnership ownership,
      MeterRegistry meters,
      Duration interval) {
    ConsumerLag lag = new ConsumerLag(coordinator, view, ownership, meters);
    lag.timer.scheduleWithFixedDelay(
        lag::measure, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    return lag;
  }

  /** One committed offset of a group. */
  private record Committed(String group, String topic, TopicPartitionId partition, long offset) {}

  private void measure() {
    if (!measuring.compareAndSet(false, true)) {
      return;
    }
    measurement()
        .whenComplete(
            (v, t) -> {
              measuring.set(false);
              if (t != null) {
                // The next pass tries again; the previous values stay until then.
                LOG.warn("consumer lag not measured: {}", t.toString());
              }
            });
  }

  /** One pass: the committed offsets, then the high watermarks, then the gauges. */
  CompletableFuture<Void> measurement() {
    return coordinator
        .listGroups(context(ApiKeys.LIST_GROUPS, 5), new ListGroupsRequestData())
        .thenCompose(
            listed -> {
              // The coordinator answers errors (a shard still loading after a move) with an
              // empty list: that is no measurement, and must not wipe the series.
              if (listed.errorCode() != Errors.NONE.code()) {
                throw new IllegalStateException(
                    "ListGroups: " + Errors.forCode(listed.errorCode()).name());
              }
              List<CompletableFuture<OffsetFetchResponseGroup>> fetches = new ArrayList<>();
              for (ListedGroup g : listed.groups()) {
                if (!"share".equals(g.groupType())) {
                  fetches.add(
                      coordinator.fetchOffsets(
                          context(ApiKeys.OFFSET_FETCH, 9),
                          new OffsetFetchRequestGroup().setGroupId(g.groupId()).setTopics(null),
                          false));
                }
              }
              return CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new))
                  .thenApply(v -> fetches.stream().map(CompletableFuture::join).toList());
            })
        .thenCompose(
            groups -> {
              List<Committed> committed = committed(groups, view.current());
              Set<TopicPartitionId> partitions = new HashSet<>();
              committed.forEach(c -> partitions.add(c.partition()));
              return ownership
                  .highWatermarks(partitions)
                  .thenAccept(highWatermarks -> publish(committed, highWatermarks));
            });
  }

  private static List<Committed> committed(
      List<OffsetFetchResponseGroup> groups, ClusterView.Snapshot snapshot) {
    List<Committed> out = new ArrayList<>();
    for (OffsetFetchResponseGroup g : groups) {
      if (g.errorCode() == Errors.GROUP_ID_NOT_FOUND.code()) {
        // Deleted since it was listed.
        continue;
      }
      if (g.errorCode() != Errors.NONE.code()) {
        throw new IllegalStateException(
            "OffsetFetch of group " + g.groupId() + ": " + Errors.forCode(g.errorCode()).name());
      }
      for (OffsetFetchResponseTopics t : g.topics()) {
        Optional<TopicInfo> topic =
            t.name() != null && !t.name().isEmpty()
                ? snapshot.topic(t.name())
                : Optional.ofNullable(
                    snapshot
                        .topicsById()
                        .get(
                            new UUID(
                                t.topicId().getMostSignificantBits(),
                                t.topicId().getLeastSignificantBits())));
        if (topic.isEmpty()) {
          continue;
        }
        for (OffsetFetchResponsePartitions p : t.partitions()) {
          if (p.errorCode() == Errors.NONE.code() && p.committedOffset() >= 0) {
            out.add(
                new Committed(
                    g.groupId(),
                    topic.get().name(),
                    new TopicPartitionId(topic.get().topicId(), p.partitionIndex()),
                    p.committedOffset()));
          }
        }
      }
    }
    return out;
  }

  /** Under this lock, so that a pass finishing after {@link #close} publishes nothing. */
  private synchronized void publish(
      List<Committed> committed, Map<TopicPartitionId, Long> highWatermarks) {
    if (closed) {
      return;
    }
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    Map<String, Long> perGroup = new HashMap<>();
    for (Committed c : committed) {
      Long hw = highWatermarks.get(c.partition());
      if (hw == null) {
        continue;
      }
      long lag = Math.max(0, hw - c.offset());
      rows.add(
          MultiGauge.Row.of(
              Tags.of(
                  "group",
                  c.group(),
                  "topic",
                  c.topic(),
                  "partition",
                  Integer.toString(c.partition().partition())),
              lag));
      perGroup.merge(c.group(), lag, Long::sum);
    }
    partitionLag.register(rows, true);
    List<MultiGauge.Row<?>> groups = new ArrayList<>();
    perGroup.forEach((g, lag) -> groups.add(MultiGauge.Row.of(Tags.of("group", g), lag)));
    groupLag.register(groups, true);
  }

  /** The coordinator's calls take a request context; these are the broker's own reads. */
  private static AuthorizableRequestContext context(ApiKeys api, int version) {
    return new AuthorizableRequestContext() {
      @Override
      public String listenerName() {
        return "";
      }

      @Override
      public SecurityProtocol securityProtocol() {
        return SecurityProtocol.PLAINTEXT;
      }

      @Override
      public KafkaPrincipal principal() {
        return KafkaPrincipal.ANONYMOUS;
      }

      @Override
      public InetAddress clientAddress() {
        return InetAddress.getLoopbackAddress();
      }

      @Override
      public int requestType() {
        return api.id;
      }

      @Override
      public int requestVersion() {
        return version;
      }

      @Override
      public String clientId() {
        return "diskless-consumer-lag";
      }

      @Override
      public int correlationId() {
        return 0;
      }
    };
  }

  @Override
  public synchronized void close() {
    closed = true;
    timer.shutdownNow();
    partitionLag.register(List.of(), true);
    groupLag.register(List.of(), true);
  }
}
