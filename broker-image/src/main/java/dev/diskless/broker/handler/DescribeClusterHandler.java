package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.metadata.BrokerInfo;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData.DescribeClusterBroker;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.DescribeClusterResponse;

/**
 * The live brokers (those holding a lease), the cluster id and the node that assigns partitions.
 */
final class DescribeClusterHandler {

  private final BrokerContext broker;

  DescribeClusterHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<DescribeClusterResponse> handle(DescribeClusterRequest request) {
    ClusterView.Snapshot s = broker.view().current();
    DescribeClusterResponseData data =
        new DescribeClusterResponseData()
            .setClusterId(broker.clusterId())
            .setControllerId(s.controllerId());
    for (BrokerInfo b : s.servingBrokers()) {
      data.brokers()
          .add(
              new DescribeClusterBroker()
                  .setBrokerId(b.nodeId())
                  .setHost(b.host())
                  .setPort(b.port())
                  .setRack(b.rack().orElse(null)));
    }
    return CompletableFuture.completedFuture(new DescribeClusterResponse(data));
  }
}
