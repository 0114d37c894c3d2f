package dev.diskless.broker.txn;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.config.ListenerConfig;
import dev.diskless.broker.group.GroupCoordination;
import dev.diskless.broker.security.InterBrokerClient;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.metadata.ProducerIds;
import dev.diskless.storage.metadata.TransactionStore;
import dev.diskless.storage.metrics.StorageMetrics;

/**
 * This broker's part in transactions: the coordinator for the transactional ids whose {@code
 * __transaction_state} partition it owns, the channel it sends markers to other brokers over, and
 * the writer of markers to the partitions it owns (for its own coordinator and for WriteTxnMarkers
 * from others).
 */
public final class TransactionCoordination implements AutoCloseable {

  private final TransactionCoordinator coordinator;
  private final LocalMarkers localMarkers;
  private final BrokerChannel channel;

  private TransactionCoordination(
      TransactionCoordinator coordinator, LocalMarkers localMarkers, BrokerChannel channel) {
    this.coordinator = coordinator;
    this.localMarkers = localMarkers;
    this.channel = channel;
  }

  public static TransactionCoordination start(
      int nodeId,
      TransactionTopic topic,
      TransactionStore store,
      ProducerIds producerIds,
      StorageEngine engine,
      ClusterView view,
      GroupCoordination groups,
      TransactionCoordinatorConfig config,
      StorageMetrics metrics,
      ListenerConfig interBroker) {
    BrokerChannel channel =
        new BrokerChannel(
                nodeId,
                interBroker.listenerName(),
                interBroker.security().protocol(),
                () -> InterBrokerClient.configs(interBroker.name(), interBroker.security()))
            .bindTo(metrics.registry(), interBroker.name());
    LocalMarkers local = new LocalMarkers(engine, view, groups);
    TransactionCoordinator coordinator =
        new TransactionCoordinator(
            nodeId,
            topic,
            store,
            producerIds,
            engine,
            new TransactionMarkers(nodeId, view, local, channel, interBroker.name()),
            config,
            metrics);
    coordinator.start();
    return new TransactionCoordination(coordinator, local, channel);
  }

  public TransactionCoordinator coordinator() {
    return coordinator;
  }

  public LocalMarkers localMarkers() {
    return localMarkers;
  }

  @Override
  public void close() {
    coordinator.close();
    channel.close();
  }
}
