package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.ProducerSnapshot;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.ProducerState;
import org.apache.kafka.common.message.DescribeProducersResponseData.TopicResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeProducersRequest;
import org.apache.kafka.common.requests.DescribeProducersResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * DescribeProducers ({@code kafka-transactions.sh describe-producers}, and {@code find-hanging} /
 * {@code abort}): the idempotent and transactional producers a partition's owner holds state for,
 * with their last sequence and the start offset of their open transaction.
 */
final class DescribeProducersHandler {

  private final BrokerContext broker;

  DescribeProducersHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<DescribeProducersResponse> handle(
      RequestContext context, DescribeProducersRequest request) {
    DescribeProducersResponseData data = new DescribeProducersResponseData();
    // As Kafka: READ on the topic.
    Set<String> readable =
        broker
            .access()
            .allowedNames(
                context,
                AclOperation.READ,
                ResourceType.TOPIC,
                request.data().topics().stream()
                    .map(DescribeProducersRequestData.TopicRequest::name)
                    .toList());
    for (DescribeProducersRequestData.TopicRequest t : request.data().topics()) {
      TopicResponse tr = new TopicResponse().setName(t.name());
      data.topics().add(tr);
      for (int index : t.partitionIndexes()) {
        PartitionResponse pr = new PartitionResponse().setPartitionIndex(index);
        tr.partitions().add(pr);
        if (!readable.contains(t.name())) {
          pr.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
          continue;
        }
        Partitions.Owned owned = Partitions.owned(broker, t.name(), index);
        if (!owned.served()) {
          pr.setErrorCode(owned.error().code());
          continue;
        }
        Optional<List<ProducerSnapshot>> producers = broker.engine().logs().producers(owned.id());
        if (producers.isEmpty()) {
          pr.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
          continue;
        }
        for (ProducerSnapshot s : producers.get()) {
          pr.activeProducers()
              .add(
                  new ProducerState()
                      .setProducerId(s.producerId())
                      .setProducerEpoch(s.producerEpoch())
                      .setLastSequence(
                          s.recent().isEmpty() ? -1 : s.recent().getLast().lastSequence())
                      .setLastTimestamp(s.lastTimestamp())
                      .setCoordinatorEpoch(s.coordinatorEpoch())
                      .setCurrentTxnStartOffset(s.txnFirstOffset()));
        }
      }
    }
    return CompletableFuture.completedFuture(new DescribeProducersResponse(data));
  }
}
