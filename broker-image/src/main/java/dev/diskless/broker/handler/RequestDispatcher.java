package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.LeaseGuard;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.AlterPartitionReassignmentsRequest;
import org.apache.kafka.common.requests.AlterUserScramCredentialsRequest;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeLogDirsRequest;
import org.apache.kafka.common.requests.DescribeProducersRequest;
import org.apache.kafka.common.requests.DescribeTransactionsRequest;
import org.apache.kafka.common.requests.DescribeUserScramCredentialsRequest;
import org.apache.kafka.common.requests.ElectLeadersRequest;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListPartitionReassignmentsRequest;
import org.apache.kafka.common.requests.ListTransactionsRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes a parsed request to the handler for its API key. Every handler returns a future of the
 * response; a handler that fails unexpectedly gets Kafka's generic error response for that request
 * rather than a dropped connection.
 */
public final class RequestDispatcher {

  private static final Logger LOG = LoggerFactory.getLogger(RequestDispatcher.class);

  private final ApiVersionsHandler apiVersions = new ApiVersionsHandler();
  private final MetadataHandler metadata;
  private final CreateTopicsHandler createTopics;
  private final ProduceHandler produce;
  private final FetchHandler fetch;
  private final ListOffsetsHandler listOffsets;
  private final InitProducerIdHandler initProducerId;
  private final DeleteTopicsHandler deleteTopics;
  private final CreatePartitionsHandler createPartitions;
  private final DescribeConfigsHandler describeConfigs;
  private final IncrementalAlterConfigsHandler incrementalAlterConfigs;
  private final AlterConfigsHandler alterConfigs;
  private final DescribeClusterHandler describeCluster;
  private final DeleteRecordsHandler deleteRecords;
  private final OffsetForLeaderEpochHandler offsetForLeaderEpoch;
  private final AlterPartitionReassignmentsHandler alterReassignments;
  private final ListPartitionReassignmentsHandler listReassignments;
  private final ElectLeadersHandler electLeaders;
  private final FindCoordinatorHandler findCoordinator;
  private final JoinGroupHandler joinGroup;
  private final SyncGroupHandler syncGroup;
  private final HeartbeatHandler heartbeat;
  private final LeaveGroupHandler leaveGroup;
  private final OffsetCommitHandler offsetCommit;
  private final OffsetFetchHandler offsetFetch;
  private final OffsetDeleteHandler offsetDelete;
  private final DescribeGroupsHandler describeGroups;
  private final ListGroupsHandler listGroups;
  private final DeleteGroupsHandler deleteGroups;
  private final ConsumerGroupHeartbeatHandler consumerGroupHeartbeat;
  private final ConsumerGroupDescribeHandler consumerGroupDescribe;
  private final AddPartitionsToTxnHandler addPartitionsToTxn;
  private final AddOffsetsToTxnHandler addOffsetsToTxn;
  private final EndTxnHandler endTxn;
  private final TxnOffsetCommitHandler txnOffsetCommit;
  private final WriteTxnMarkersHandler writeTxnMarkers;
  private final DescribeTransactionsHandler describeTransactions;
  private final ListTransactionsHandler listTransactions;
  private final DescribeProducersHandler describeProducers;
  private final AlterUserScramCredentialsHandler alterScramCredentials;
  private final DescribeLogDirsHandler describeLogDirs;
  private final DescribeUserScramCredentialsHandler describeScramCredentials;

  private final io.micrometer.core.instrument.MeterRegistry meters;
  private final LeaseGuard lease;
  private final int nodeId;

  /** {@code lease}: whether this broker still holds its registration lease ({@link LeaseGate}). */
  public RequestDispatcher(BrokerContext broker, LeaseGuard lease) {
    this.meters = broker.meters();
    this.lease = lease;
    this.nodeId = broker.nodeId();
    this.metadata = new MetadataHandler(broker);
    this.createTopics = new CreateTopicsHandler(broker);
    this.produce = new ProduceHandler(broker);
    this.fetch = new FetchHandler(broker);
    this.listOffsets = new ListOffsetsHandler(broker);
    this.initProducerId = new InitProducerIdHandler(broker);
    this.deleteTopics = new DeleteTopicsHandler(broker);
    this.createPartitions = new CreatePartitionsHandler(broker);
    this.describeConfigs = new DescribeConfigsHandler(broker);
    this.incrementalAlterConfigs = new IncrementalAlterConfigsHandler(broker);
    this.alterConfigs = new AlterConfigsHandler(broker);
    this.describeCluster = new DescribeClusterHandler(broker);
    this.deleteRecords = new DeleteRecordsHandler(broker);
    this.offsetForLeaderEpoch = new OffsetForLeaderEpochHandler(broker);
    this.alterReassignments = new AlterPartitionReassignmentsHandler(broker);
    this.listReassignments = new ListPartitionReassignmentsHandler(broker);
    this.electLeaders = new ElectLeadersHandler(broker);
    this.findCoordinator = new FindCoordinatorHandler(broker);
    this.joinGroup = new JoinGroupHandler(broker);
    this.syncGroup = new SyncGroupHandler(broker);
    this.heartbeat = new HeartbeatHandler(broker);
    this.leaveGroup = new LeaveGroupHandler(broker);
    this.offsetCommit = new OffsetCommitHandler(broker);
    this.offsetFetch = new OffsetFetchHandler(broker);
    this.offsetDelete = new OffsetDeleteHandler(broker);
    this.describeGroups = new DescribeGroupsHandler(broker);
    this.listGroups = new ListGroupsHandler(broker);
    this.deleteGroups = new DeleteGroupsHandler(broker);
    this.consumerGroupHeartbeat = new ConsumerGroupHeartbeatHandler(broker);
    this.consumerGroupDescribe = new ConsumerGroupDescribeHandler(broker);
    this.addPartitionsToTxn = new AddPartitionsToTxnHandler(broker);
    this.addOffsetsToTxn = new AddOffsetsToTxnHandler(broker);
    this.endTxn = new EndTxnHandler(broker);
    this.txnOffsetCommit = new TxnOffsetCommitHandler(broker);
    this.writeTxnMarkers = new WriteTxnMarkersHandler(broker);
    this.describeTransactions = new DescribeTransactionsHandler(broker);
    this.listTransactions = new ListTransactionsHandler(broker);
    this.describeProducers = new DescribeProducersHandler(broker);
    this.alterScramCredentials = new AlterUserScramCredentialsHandler(broker.scramCredentials());
    this.describeLogDirs =
        new DescribeLogDirsHandler(broker.batchIndex(), broker.view(), broker.nodeId());
    this.describeScramCredentials =
        new DescribeUserScramCredentialsHandler(broker.scramCredentials());
  }

  public CompletableFuture<AbstractResponse> handle(
      RequestContext context, AbstractRequest request) {
    CompletableFuture<? extends AbstractResponse> response;
    try {
      if (lease.holds()) {
        response = route(context, request);
      } else {
        // Read the lease once: a request is either refused or answered as without it.
        Optional<AbstractResponse> refused = LeaseGate.refusal(context.header.apiKey(), request);
        response =
            refused.isPresent()
                ? CompletableFuture.completedFuture(refused.get())
                : request instanceof MetadataRequest
                    ? metadata
                        .handle((MetadataRequest) request)
                        .thenApply(r -> LeaseGate.disown(r, nodeId))
                    : route(context, request);
      }
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    long start = System.nanoTime();
    String api = context.header.apiKey().name;
    return response
        .<AbstractResponse>thenApply(r -> r)
        .whenComplete(
            (r, t) ->
                io.micrometer.core.instrument.Timer.builder("diskless.requests")
                    .description("Kafka requests by API and outcome, from parse to response")
                    .tag("api", api)
                    .tag("outcome", t == null ? "response" : "failure")
                    .publishPercentileHistogram()
                    .register(meters)
                    .record(java.time.Duration.ofNanos(System.nanoTime() - start)))
        .exceptionally(
            t -> {
              LOG.warn("{} failed: {}", context.header.apiKey(), t.toString());
              return request.getErrorResponse(t);
            });
  }

  /** The handler for the request's API key. */
  private CompletableFuture<? extends AbstractResponse> route(
      RequestContext context, AbstractRequest request) {
    return switch (context.header.apiKey()) {
      case API_VERSIONS -> apiVersions.handle(context, (ApiVersionsRequest) request);
      case METADATA -> metadata.handle((MetadataRequest) request);
      case CREATE_TOPICS -> createTopics.handle((CreateTopicsRequest) request);
      case PRODUCE -> produce.handle((ProduceRequest) request);
      case FETCH -> fetch.handle((FetchRequest) request);
      case LIST_OFFSETS -> listOffsets.handle((ListOffsetsRequest) request);
      case INIT_PRODUCER_ID -> initProducerId.handle((InitProducerIdRequest) request);
      case DELETE_TOPICS -> deleteTopics.handle((DeleteTopicsRequest) request);
      case CREATE_PARTITIONS -> createPartitions.handle((CreatePartitionsRequest) request);
      case DESCRIBE_CONFIGS -> describeConfigs.handle((DescribeConfigsRequest) request);
      case INCREMENTAL_ALTER_CONFIGS ->
          incrementalAlterConfigs.handle((IncrementalAlterConfigsRequest) request);
      case ALTER_CONFIGS -> alterConfigs.handle((AlterConfigsRequest) request);
      case DESCRIBE_CLUSTER -> describeCluster.handle((DescribeClusterRequest) request);
      case DELETE_RECORDS -> deleteRecords.handle((DeleteRecordsRequest) request);
      case OFFSET_FOR_LEADER_EPOCH ->
          offsetForLeaderEpoch.handle((OffsetsForLeaderEpochRequest) request);
      case ALTER_PARTITION_REASSIGNMENTS ->
          alterReassignments.handle((AlterPartitionReassignmentsRequest) request);
      case LIST_PARTITION_REASSIGNMENTS ->
          listReassignments.handle((ListPartitionReassignmentsRequest) request);
      case ELECT_LEADERS -> electLeaders.handle((ElectLeadersRequest) request);
      case FIND_COORDINATOR -> findCoordinator.handle((FindCoordinatorRequest) request);
      case JOIN_GROUP -> joinGroup.handle(context, (JoinGroupRequest) request);
      case SYNC_GROUP -> syncGroup.handle(context, (SyncGroupRequest) request);
      case HEARTBEAT -> heartbeat.handle(context, (HeartbeatRequest) request);
      case LEAVE_GROUP -> leaveGroup.handle(context, (LeaveGroupRequest) request);
      case OFFSET_COMMIT -> offsetCommit.handle(context, (OffsetCommitRequest) request);
      case OFFSET_FETCH -> offsetFetch.handle(context, (OffsetFetchRequest) request);
      case OFFSET_DELETE -> offsetDelete.handle(context, (OffsetDeleteRequest) request);
      case DESCRIBE_GROUPS -> describeGroups.handle(context, (DescribeGroupsRequest) request);
      case LIST_GROUPS -> listGroups.handle(context, (ListGroupsRequest) request);
      case DELETE_GROUPS -> deleteGroups.handle(context, (DeleteGroupsRequest) request);
      case CONSUMER_GROUP_HEARTBEAT ->
          consumerGroupHeartbeat.handle(context, (ConsumerGroupHeartbeatRequest) request);
      case CONSUMER_GROUP_DESCRIBE ->
          consumerGroupDescribe.handle(context, (ConsumerGroupDescribeRequest) request);
      case ADD_PARTITIONS_TO_TXN -> addPartitionsToTxn.handle((AddPartitionsToTxnRequest) request);
      case ADD_OFFSETS_TO_TXN -> addOffsetsToTxn.handle((AddOffsetsToTxnRequest) request);
      case END_TXN -> endTxn.handle((EndTxnRequest) request);
      case TXN_OFFSET_COMMIT -> txnOffsetCommit.handle(context, (TxnOffsetCommitRequest) request);
      case WRITE_TXN_MARKERS -> writeTxnMarkers.handle((WriteTxnMarkersRequest) request);
      case DESCRIBE_TRANSACTIONS ->
          describeTransactions.handle((DescribeTransactionsRequest) request);
      case LIST_TRANSACTIONS -> listTransactions.handle((ListTransactionsRequest) request);
      case DESCRIBE_PRODUCERS ->
          CompletableFuture.completedFuture(
              describeProducers.handle((DescribeProducersRequest) request));
      case DESCRIBE_LOG_DIRS -> describeLogDirs.handle((DescribeLogDirsRequest) request);
      case ALTER_USER_SCRAM_CREDENTIALS ->
          alterScramCredentials.handle((AlterUserScramCredentialsRequest) request);
      case DESCRIBE_USER_SCRAM_CREDENTIALS ->
          describeScramCredentials.handle((DescribeUserScramCredentialsRequest) request);
      default ->
          CompletableFuture.completedFuture(
              request.getErrorResponse(
                  new UnsupportedVersionException(context.header.apiKey() + " is not supported")));
    };
  }
}
