package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.group.GroupCoordination;
import dev.diskless.broker.txn.TransactionCoordination;
import dev.diskless.broker.txn.TransactionVerifier;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.metadata.LeaderEpochs;
import dev.diskless.storage.metadata.PartitionLimits;
import dev.diskless.storage.metadata.PartitionMoves;
import dev.diskless.storage.metadata.ProducerIds;
import dev.diskless.storage.metadata.TopicStore;
import java.util.List;
import java.util.Optional;

/**
 * What request handlers share: this node and its zone, its storage, the cluster view, the metadata
 * stores, what wakes long-polling fetches, the group and transaction coordinators, the bounds
 * client requests must respect, the authorizer with the checks handlers ask it, and the client
 * quotas.
 */
public record BrokerContext(
    int nodeId,
    Optional<String> rack,
    String clusterId,
    StorageEngine engine,
    ClusterView view,
    TopicStore topics,
    ProducerIds producerIds,
    TopicAssigner assigner,
    PartitionMoves moves,
    LeaderEpochs leaderEpochs,
    HighWatermarkWaiters waiters,
    ReplicaTailFollower tail,
    GroupCoordination groups,
    TransactionCoordination transactions,
    TransactionVerifier verifier,
    dev.diskless.storage.metrics.StorageMetrics metrics,
    PartitionLimits partitionLimits,
    dev.diskless.storage.metadata.ScramCredentialStore scramCredentials,
    dev.diskless.storage.metadata.BatchIndex batchIndex,
    dev.diskless.storage.metadata.BrokerConfigStore brokerConfigs,
    Optional<dev.diskless.broker.security.AclAuthorizer> acls,
    dev.diskless.storage.metadata.AclStore aclStore,
    Access access,
    dev.diskless.broker.quota.ClientQuotas quotas,
    dev.diskless.storage.metadata.ClientQuotaStore quotaStore,
    List<dev.diskless.broker.config.StaticSetting> staticSettings) {

  /** The registry every request metric goes to. */
  public io.micrometer.core.instrument.MeterRegistry meters() {
    return metrics.registry();
  }
}
