package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.LeaderEpochs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Where a leader epoch ends, from the epoch history the owners record in metadata — what consumers
 * ask after a leader change to check that their position is still on the log (KIP-320). Logs never
 * truncate here, so a position a consumer reached is always confirmed. Answered by the owner only,
 * with Kafka's leader-epoch fencing.
 */
final class OffsetForLeaderEpochHandler {

  private final BrokerContext broker;

  OffsetForLeaderEpochHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<OffsetsForLeaderEpochResponse> handle(
      RequestContext context, OffsetsForLeaderEpochRequest request) {
    OffsetForLeaderEpochResponseData data = new OffsetForLeaderEpochResponseData();
    // As Kafka: CLUSTER_ACTION on the cluster (replicas), else DESCRIBE on each topic.
    List<String> names = request.data().topics().stream().map(OffsetForLeaderTopic::topic).toList();
    Set<String> describable =
        broker.access().cluster(context, AclOperation.CLUSTER_ACTION, false)
            ? new HashSet<>(names)
            : broker
                .access()
                .allowedNames(context, AclOperation.DESCRIBE, ResourceType.TOPIC, names);
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (OffsetForLeaderTopic topic : request.data().topics()) {
      OffsetForLeaderTopicResult t = new OffsetForLeaderTopicResult().setTopic(topic.topic());
      data.topics().add(t);
      for (OffsetForLeaderPartition p : topic.partitions()) {
        EpochEndOffset r =
            new EpochEndOffset().setPartition(p.partition()).setLeaderEpoch(-1).setEndOffset(-1);
        t.partitions().add(r);
        if (!describable.contains(topic.topic())) {
          r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
          continue;
        }
        Partitions.Owned owned = Partitions.owned(broker, topic.topic(), p.partition());
        if (!owned.served()) {
          r.setErrorCode(owned.error().code());
          continue;
        }
        int current = owned.local().leaderEpoch();
        Errors fenced = Partitions.checkLeaderEpoch(p.currentLeaderEpoch(), current);
        if (fenced != Errors.NONE) {
          r.setErrorCode(fenced.code());
          continue;
        }
        all.add(
            broker
                .leaderEpochs()
                .of(owned.id())
                .handle(
                    (epochs, e) -> {
                      if (e != null) {
                        r.setErrorCode(ErrorCodes.of(e).code());
                        return null;
                      }
                      Map.Entry<Integer, Long> end =
                          LeaderEpochs.endOffsetFor(
                              epochs, p.leaderEpoch(), current, owned.local().highWatermark());
                      r.setLeaderEpoch(end.getKey()).setEndOffset(end.getValue());
                      return null;
                    }));
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new OffsetsForLeaderEpochResponse(data));
  }
}
