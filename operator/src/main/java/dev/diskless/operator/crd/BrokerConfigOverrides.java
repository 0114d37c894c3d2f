package dev.diskless.operator.crd;

/**
 * The broker settings a cluster's spec may override. Everything else (identity, addresses, storage
 * and metadata connection) is derived from the rest of the spec. The list is written into the CRD
 * as a CEL rule, so kubectl refuses an unknown key with this message.
 */
public final class BrokerConfigOverrides {

  private BrokerConfigOverrides() {}

  static final String KEYS =
      "'lease.ms', 'max.frame.bytes', 'queued.max.request.bytes',"
          + " 'max.partitions.per.topic', 'max.partitions.per.cluster',"
          + " 'drain.timeout.ms', 'wal.max.object.bytes', 'wal.max.age.ms',"
          + " 'wal.group.commit.max.bytes.per.second', 'wal.group.commit.min.bytes',"
          + " 'wal.max.puts.per.second',"
          + " 'cache.tail.bytes', 'cache.block.bytes',"
          + " 'compaction.key.map.bytes',"
          + " 'offsets.topic.num.partitions', 'offsets.retention.minutes',"
          + " 'offsets.commit.timeout.ms', 'offset.metadata.max.bytes',"
          + " 'group.initial.rebalance.delay.ms', 'group.min.session.timeout.ms',"
          + " 'group.max.session.timeout.ms', 'group.max.size',"
          + " 'group.coordinator.rebalance.protocols', 'group.coordinator.threads',"
          + " 'group.coordinator.append.linger.ms', 'group.consumer.session.timeout.ms',"
          + " 'group.consumer.heartbeat.interval.ms', 'group.consumer.max.size',"
          + " 'group.consumer.assignors',"
          + " 'transaction.state.log.num.partitions', 'transaction.max.timeout.ms',"
          + " 'transaction.abort.timed.out.transaction.cleanup.interval.ms',"
          + " 'transactional.id.expiration.ms'";

  static final String CEL_RULE = "self.all(k, k in [" + KEYS + "])";

  static final String CEL_MESSAGE = "brokers.config accepts only these keys: " + KEYS;
}
