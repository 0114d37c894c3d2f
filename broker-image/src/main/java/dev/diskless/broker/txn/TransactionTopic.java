package dev.diskless.broker.txn;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.TopicInfo;
import dev.diskless.storage.metadata.TopicStore;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.utils.Utils;

/**
 * The internal topic {@code __transaction_state}, as in Kafka: a transactional id hashes onto one
 * of its partitions, and that partition's owner is the id's transaction coordinator, with the
 * partition's leader epoch as the coordinator epoch. Unlike Kafka's, it holds no records: the
 * coordinators keep their state in PostgreSQL ({@link
 * dev.diskless.storage.metadata.TransactionStore}), so the partitions only carry ownership, and a
 * coordinator moves (on failover or rebalance) the way every partition does, by metadata alone,
 * with nothing to replay.
 */
public record TransactionTopic(TopicInfo topic) {

  public static final String NAME = Topic.TRANSACTION_STATE_TOPIC_NAME;

  /** Returns the topic, creating it with {@code partitions} partitions if no broker has yet. */
  public static CompletableFuture<TransactionTopic> ensure(TopicStore topics, int partitions) {
    return topics
        .createIfAbsent(NAME, partitions, Map.of("cleanup.policy", "compact"))
        .thenApply(TransactionTopic::new);
  }

  public int partitions() {
    return topic.partitionCount();
  }

  /** Kafka's {@code TransactionStateManager.partitionFor}. */
  public int partitionFor(String transactionalId) {
    return Utils.abs(transactionalId.hashCode()) % partitions();
  }

  public TopicPartitionId partition(int index) {
    return new TopicPartitionId(topic.topicId(), index);
  }
}
