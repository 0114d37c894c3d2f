package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.metadata.BrokerInfo;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData.DescribeClusterBroker;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.DescribeClusterResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.Resource;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The live brokers (those holding a lease), the cluster id and the node that assigns partitions.
 */
final class DescribeClusterHandler {

  private final BrokerContext broker;

  DescribeClusterHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<DescribeClusterResponse> handle(
      RequestContext context, DescribeClusterRequest request) {
    ClusterView.Snapshot s = broker.view().current();
    DescribeClusterResponseData data =
        new DescribeClusterResponseData()
            .setClusterId(broker.clusterId())
            .setControllerId(s.controllerId());
    // Only the brokers the client's listener reaches, at that listener's address.
    for (BrokerInfo b : s.servingBrokers()) {
      b.endpoint(context.listenerName.value())
          .ifPresent(
              e ->
                  data.brokers()
                      .add(
                          new DescribeClusterBroker()
                              .setBrokerId(b.nodeId())
                              .setHost(e.host())
                              .setPort(e.port())
                              .setRack(b.rack().orElse(null))));
    }
    if (request.data().includeClusterAuthorizedOperations()) {
      Access access = broker.access();
      data.setClusterAuthorizedOperations(
          access.cluster(context, AclOperation.DESCRIBE)
              ? access.authorizedOperations(context, ResourceType.CLUSTER, Resource.CLUSTER_NAME)
              : 0);
    }
    return CompletableFuture.completedFuture(new DescribeClusterResponse(data));
  }
}
