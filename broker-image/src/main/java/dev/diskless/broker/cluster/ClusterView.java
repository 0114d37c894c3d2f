package dev.diskless.broker.cluster;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.ClusterReads;
import dev.diskless.storage.metadata.ControllerLease;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * This broker's cached picture of the cluster — live brokers, topics and partition owners —
 * refreshed from metadata when it is told of a change ({@link OwnershipSync}), after every change
 * this broker makes, and as leases run out. Metadata responses are served from it; it is only a
 * cache (D3): the storage engine checks ownership and epochs for real on every commit.
 */
public final class ClusterView {

  /**
   * One consistent picture.
   *
   * @param moves requested ownership moves, partition → target node
   * @param preferredOwners where operators placed partitions (kept by balancing)
   * @param controllerLease the node holding the controller lease and when it ends, if it runs
   */
  public record Snapshot(
      List<BrokerInfo> brokers,
      Map<String, TopicInfo> topicsByName,
      Map<UUID, TopicInfo> topicsById,
      Map<TopicPartitionId, PartitionMetadata> partitions,
      Map<TopicPartitionId, Integer> moves,
      Map<TopicPartitionId, Integer> preferredOwners,
      Optional<ControllerLease.Holder> controllerLease) {

    /** The node holding the controller lease, if any. */
    public OptionalInt controller() {
      return controllerLease.map(h -> OptionalInt.of(h.node())).orElse(OptionalInt.empty());
    }

    /** The same picture with other brokers. */
    public Snapshot withBrokers(List<BrokerInfo> live) {
      return new Snapshot(
          List.copyOf(live),
          topicsByName,
          topicsById,
          partitions,
          moves,
          preferredOwners,
          controllerLease);
    }

    /** The same picture with another controller lease. */
    public Snapshot withControllerLease(Optional<ControllerLease.Holder> lease) {
      return new Snapshot(
          brokers, topicsByName, topicsById, partitions, moves, preferredOwners, lease);
    }

    public Optional<TopicInfo> topic(String name) {
      return Optional.ofNullable(topicsByName.get(name));
    }

    public Optional<BrokerInfo> broker(int nodeId) {
      return brokers.stream().filter(b -> b.nodeId() == nodeId).findFirst();
    }

    /** The live owner of {@code tp}, if it has one. */
    public OptionalInt liveOwner(TopicPartitionId tp) {
      PartitionMetadata p = partitions.get(tp);
      if (p == null || p.owner().isEmpty() || broker(p.owner().getAsInt()).isEmpty()) {
        return OptionalInt.empty();
      }
      return p.owner();
    }

    /**
     * Partitions of live topics without a live owner: none recorded yet, or a broker whose lease
     * has ended. The controller gives them owners within a pass; a number that stays above 0 means
     * no broker can take them (all draining or starting) or no controller runs.
     */
    public int unownedPartitions() {
      Set<Integer> live = new HashSet<>();
      brokers.forEach(b -> live.add(b.nodeId()));
      int unowned = 0;
      for (PartitionMetadata p : partitions.values()) {
        if (p.owner().isEmpty() || !live.contains(p.owner().getAsInt())) {
          unowned++;
        }
      }
      return unowned;
    }

    /** Whether {@code node} may be given partitions: live, serving and not draining. */
    public boolean acceptsPartitions(int node) {
      return broker(node).map(BrokerInfo::acceptsPartitions).orElse(false);
    }

    /**
     * The brokers clients are told about: those that have started (a broker still starting is live
     * but not listed, as KRaft lists no fenced broker).
     */
    public List<BrokerInfo> servingBrokers() {
      return brokers.stream().filter(BrokerInfo::serving).toList();
    }

    /** Whether {@code node} is live and has started. */
    public boolean serving(int node) {
      return broker(node).map(BrokerInfo::serving).orElse(false);
    }

    /** Partitions owned by each broker that accepts partitions (0 for one that owns none). */
    public Map<Integer, Integer> ownedByTargets() {
      Map<Integer, Integer> load = new HashMap<>();
      brokers.stream().filter(BrokerInfo::acceptsPartitions).forEach(b -> load.put(b.nodeId(), 0));
      partitions
          .values()
          .forEach(p -> p.owner().ifPresent(o -> load.computeIfPresent(o, (k, n) -> n + 1)));
      return load;
    }

    /** The broker with the fewest partitions in {@code load}, ties to the lowest node id. */
    public static OptionalInt leastLoaded(Map<Integer, Integer> load) {
      return load.entrySet().stream()
          .min(
              Map.Entry.<Integer, Integer>comparingByValue()
                  .thenComparing(Map.Entry.comparingByKey()))
          .map(e -> OptionalInt.of(e.getKey()))
          .orElse(OptionalInt.empty());
    }

    /** The controller to report to clients: the lease holder, else the lowest live node. */
    public int controllerId() {
      OptionalInt controller = controller();
      if (controller.isPresent() && broker(controller.getAsInt()).isPresent()) {
        return controller.getAsInt();
      }
      return brokers.isEmpty() ? -1 : brokers.get(0).nodeId();
    }
  }

  private final ClusterReads reads;
  private final BrokerRegistry brokers;

  /** The metadata snapshot of the full read installed last. */
  private long installedSnapshot = Long.MIN_VALUE;

  private volatile Snapshot current =
      new Snapshot(List.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Optional.empty());
  private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
  private final ControllerLease controller;

  public ClusterView(ClusterReads reads, BrokerRegistry brokers, ControllerLease controller) {
    this.reads = reads;
    this.brokers = brokers;
    this.controller = controller;
  }

  public Snapshot current() {
    return current;
  }

  /** Called with every refreshed picture, on the refreshing thread; must not block. */
  public void addListener(Consumer<Snapshot> listener) {
    listeners.add(listener);
  }

  /** Reloads everything from metadata, in one consistent read. */
  public CompletableFuture<Snapshot> refresh() {
    return reads
        .read()
        .thenApply(
            picture -> {
              Map<String, TopicInfo> byName = new HashMap<>();
              Map<UUID, TopicInfo> byId = new HashMap<>();
              for (TopicInfo t : picture.topics()) {
                byName.put(t.name(), t);
                byId.put(t.topicId(), t);
              }
              Map<TopicPartitionId, PartitionMetadata> partitions = new HashMap<>();
              for (PartitionMetadata p : picture.partitions()) {
                partitions.put(p.partition(), p);
              }
              Snapshot s =
                  new Snapshot(
                      List.copyOf(picture.brokers()),
                      Map.copyOf(byName),
                      Map.copyOf(byId),
                      Map.copyOf(partitions),
                      Map.copyOf(picture.moves()),
                      Map.copyOf(picture.preferredOwners()),
                      picture.controllerLease());
              return refreshed(s, picture.snapshot());
            });
  }

  /**
   * Installs a full read unless a newer one is already installed: two refreshes may run at once (a
   * change notification and a handler that just wrote), and the one that read first may finish
   * last.
   */
  private synchronized Snapshot refreshed(Snapshot s, long snapshot) {
    if (snapshot < installedSnapshot) {
      return current;
    }
    installedSnapshot = snapshot;
    return update(old -> s);
  }

  /** Reloads only the live brokers (whose leases end), keeping the rest of the picture. */
  public CompletableFuture<Snapshot> refreshBrokers() {
    return brokers.live().thenApply(live -> update(s -> s.withBrokers(live)));
  }

  /** Reloads only the controller lease, keeping the rest of the picture. */
  public CompletableFuture<Snapshot> refreshControllerLease() {
    return controller.holder().thenApply(h -> update(s -> s.withControllerLease(h)));
  }

  private synchronized Snapshot update(java.util.function.UnaryOperator<Snapshot> change) {
    Snapshot s = change.apply(current);
    current = s;
    listeners.forEach(l -> l.accept(s));
    return s;
  }
}
