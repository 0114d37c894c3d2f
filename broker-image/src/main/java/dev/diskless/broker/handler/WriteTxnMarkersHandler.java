package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarker;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarkerTopic;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersResponse;

/**
 * WriteTxnMarkers, from a transaction coordinator on another broker: writes each marker to the
 * partitions this broker owns, answering per partition (NOT_LEADER_OR_FOLLOWER where it does not
 * own one, so the coordinator looks again).
 */
final class WriteTxnMarkersHandler {

  private final BrokerContext broker;

  WriteTxnMarkersHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<WriteTxnMarkersResponse> handle(WriteTxnMarkersRequest request) {
    WriteTxnMarkersResponseData data = new WriteTxnMarkersResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    // A transaction's markers on this broker go into one WAL flush.
    try (var hold = broker.transactions().localMarkers().holdFlushes()) {
      for (WritableTxnMarker marker : request.data().markers()) {
        WritableTxnMarkerResult result =
            new WritableTxnMarkerResult().setProducerId(marker.producerId());
        data.markers().add(result);
        for (WritableTxnMarkerTopic topic : marker.topics()) {
          WritableTxnMarkerTopicResult tr =
              new WritableTxnMarkerTopicResult().setName(topic.name());
          result.topics().add(tr);
          for (int partition : topic.partitionIndexes()) {
            WritableTxnMarkerPartitionResult pr =
                new WritableTxnMarkerPartitionResult().setPartitionIndex(partition);
            tr.partitions().add(pr);
            all.add(
                broker
                    .transactions()
                    .localMarkers()
                    .write(
                        new TopicPartition(topic.name(), partition),
                        marker.producerId(),
                        marker.producerEpoch(),
                        marker.coordinatorEpoch(),
                        marker.transactionResult())
                    .thenAccept(error -> pr.setErrorCode(error.code())));
          }
        }
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new WriteTxnMarkersResponse(data));
  }
}
