package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.TopicInfo;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * AddPartitionsToTxn from a producer (versions 0 to 3): as Kafka's KafkaApis, partitions of unknown
 * topics get UNKNOWN_TOPIC_OR_PARTITION and internal topics TOPIC_AUTHORIZATION_FAILED, with
 * OPERATION_NOT_ATTEMPTED for the rest; otherwise the coordinator adds them all or none and its one
 * error applies to every partition. The broker-to-broker versions (4 and later, batched
 * verification) are not offered: owners verify through the metadata store instead.
 */
final class AddPartitionsToTxnHandler {

  private final BrokerContext broker;

  AddPartitionsToTxnHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<AddPartitionsToTxnResponse> handle(
      RequestContext context, AddPartitionsToTxnRequest request) {
    var data = request.data();
    String transactionalId = data.v3AndBelowTransactionalId();
    Access access = broker.access();
    // As Kafka: WRITE on the transactional id for the whole request, then WRITE on each topic.
    if (!access.allowed(
        context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
      return CompletableFuture.completedFuture(
          (AddPartitionsToTxnResponse)
              request.getErrorResponse(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.exception()));
    }
    List<TopicPartition> partitions =
        AddPartitionsToTxnRequest.getPartitions(data.v3AndBelowTopics());
    Set<String> writable =
        access.allowedNames(
            context,
            AclOperation.WRITE,
            ResourceType.TOPIC,
            partitions.stream().map(TopicPartition::topic).toList());
    Map<TopicPartition, Errors> refused = new HashMap<>();
    for (TopicPartition tp : partitions) {
      Optional<TopicInfo> topic = broker.view().current().topic(tp.topic());
      if (Topic.isInternal(tp.topic()) || !writable.contains(tp.topic())) {
        refused.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED);
      } else if (topic.isEmpty()
          || tp.partition() < 0
          || tp.partition() >= topic.get().partitionCount()) {
        refused.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
      }
    }
    if (!refused.isEmpty()) {
      Map<TopicPartition, Errors> out = new HashMap<>(refused);
      partitions.forEach(tp -> out.putIfAbsent(tp, Errors.OPERATION_NOT_ATTEMPTED));
      return CompletableFuture.completedFuture(response(out));
    }
    Set<TopicPartition> all = new HashSet<>(partitions);
    return broker
        .transactions()
        .coordinator()
        .addPartitions(
            transactionalId, data.v3AndBelowProducerId(), data.v3AndBelowProducerEpoch(), all)
        .thenApply(
            error -> {
              Map<TopicPartition, Errors> out = new HashMap<>();
              all.forEach(tp -> out.put(tp, error));
              return response(out);
            });
  }

  private static AddPartitionsToTxnResponse response(Map<TopicPartition, Errors> errors) {
    return new AddPartitionsToTxnResponse(
        new AddPartitionsToTxnResponseData()
            .setResultsByTopicV3AndBelow(
                AddPartitionsToTxnResponse.resultForTransaction(
                        AddPartitionsToTxnResponse.V3_AND_BELOW_TXN_ID, errors)
                    .topicResults()));
  }
}
