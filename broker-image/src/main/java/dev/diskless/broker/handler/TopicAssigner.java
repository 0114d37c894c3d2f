package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.PartitionPlacement;
import dev.diskless.storage.StorageException;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.PartitionMetadata;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Gives a new topic's partitions (or a topic's added ones) owners among the live, non-draining
 * brokers by the controller's own rule ({@link PartitionPlacement}: over zones first, then the
 * brokers with the fewest of the topic's partitions, then the least loaded), so that balancing does
 * not move them again right after the create.
 */
public final class TopicAssigner {

  private final PartitionOwnership ownership;
  private final ClusterView view;

  public TopicAssigner(PartitionOwnership ownership, ClusterView view) {
    this.ownership = ownership;
    this.view = view;
  }

  public CompletableFuture<Void> assign(TopicInfo topic) {
    return assign(topic, 0);
  }

  /**
   * Gives a partition without a live owner to the live, non-draining broker that owns the fewest
   * partitions. Fails if a live broker owns it after all.
   */
  public CompletableFuture<Void> assignOrphan(TopicPartitionId tp) {
    return view.refresh()
        .thenCompose(
            s -> {
              java.util.OptionalInt target = ClusterView.Snapshot.leastLoaded(s.ownedByTargets());
              if (target.isEmpty()) {
                return CompletableFuture.failedFuture(
                    new IllegalStateException("no live broker to own " + tp));
              }
              return ownership.acquire(tp, target.getAsInt());
            })
        .thenCompose(m -> view.refresh())
        .thenApply(s -> null);
  }

  /**
   * Assigns partitions {@code from} and up only: re-acquiring a partition its live owner holds
   * would bump its epoch and fence that owner's appends in flight.
   */
  public CompletableFuture<Void> assign(TopicInfo topic, int from) {
    // Fresh: a broker that registered a moment ago should get its share of a new topic.
    return view.refresh().thenCompose(s -> assign(topic, from, PartitionPlacement.of(s)));
  }

  /**
   * The controller's ownership pass may give a new partition an owner first (it assigns every
   * partition without a live one); that is the outcome wanted, not a failure of the create.
   */
  private static CompletableFuture<PartitionMetadata> ownedAlready(Throwable t) {
    return StorageException.unwrap(t) instanceof StorageException se
            && se.kind() == StorageException.Kind.NOT_OWNER
        ? CompletableFuture.completedFuture(null)
        : CompletableFuture.failedFuture(t);
  }

  private CompletableFuture<Void> assign(TopicInfo topic, int from, PartitionPlacement placement) {
    if (!placement.hasTargets()) {
      // Nobody to own them yet; the first broker's ownership pass assigns orphans.
      return CompletableFuture.completedFuture(null);
    }
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (int p = from; p < topic.partitionCount(); p++) {
      int node = placement.assign(new TopicPartitionId(topic.topicId(), p));
      // Epoch 0: never owned. If the controller's pass got there first, that owner stands.
      all.add(
          ownership
              .acquire(new TopicPartitionId(topic.topicId(), p), node, 0)
              .exceptionallyCompose(TopicAssigner::ownedAlready));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenCompose(v -> view.refresh())
        .thenApply(s -> null);
  }
}
