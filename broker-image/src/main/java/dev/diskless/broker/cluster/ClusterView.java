package dev.diskless.broker.cluster;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * This broker's cached picture of the cluster — live brokers, topics and partition owners —
 * refreshed from metadata periodically and after every change this broker makes. Metadata responses
 * are served from it; it is only a cache (D3): the storage engine checks ownership and epochs for
 * real on every commit.
 */
public final class ClusterView {

  /** One consistent picture. */
  public record Snapshot(
      List<BrokerInfo> brokers,
      Map<String, TopicInfo> topicsByName,
      Map<UUID, TopicInfo> topicsById,
      Map<TopicPartitionId, PartitionMetadata> partitions) {

    public Optional<TopicInfo> topic(String name) {
      return Optional.ofNullable(topicsByName.get(name));
    }
  }

  private final TopicStore topics;
  private final PartitionOwnership ownership;
  private final BrokerRegistry brokers;
  private volatile Snapshot current = new Snapshot(List.of(), Map.of(), Map.of(), Map.of());
  private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();

  public ClusterView(TopicStore topics, PartitionOwnership ownership, BrokerRegistry brokers) {
    this.topics = topics;
    this.ownership = ownership;
    this.brokers = brokers;
  }

  public Snapshot current() {
    return current;
  }

  /** Called with every refreshed picture, on the refreshing thread; must not block. */
  public void addListener(Consumer<Snapshot> listener) {
    listeners.add(listener);
  }

  /** Reloads everything from metadata. */
  public CompletableFuture<Snapshot> refresh() {
    CompletableFuture<List<BrokerInfo>> live = brokers.live();
    CompletableFuture<List<TopicInfo>> all = topics.list();
    CompletableFuture<List<PartitionMetadata>> parts = ownership.all();
    return CompletableFuture.allOf(live, all, parts)
        .thenApply(
            v -> {
              Map<String, TopicInfo> byName = new HashMap<>();
              Map<UUID, TopicInfo> byId = new HashMap<>();
              for (TopicInfo t : all.join()) {
                byName.put(t.name(), t);
                byId.put(t.topicId(), t);
              }
              Map<TopicPartitionId, PartitionMetadata> partitions = new HashMap<>();
              for (PartitionMetadata p : parts.join()) {
                partitions.put(p.partition(), p);
              }
              Snapshot s =
                  new Snapshot(
                      List.copyOf(live.join()),
                      Map.copyOf(byName),
                      Map.copyOf(byId),
                      Map.copyOf(partitions));
              current = s;
              listeners.forEach(l -> l.accept(s));
              return s;
            });
  }
}
