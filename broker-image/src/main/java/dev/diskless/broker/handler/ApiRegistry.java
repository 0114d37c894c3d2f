package dev.diskless.broker.handler;

import static dev.diskless.broker.handler.AuthorizationRule.cluster;
import static dev.diskless.broker.handler.AuthorizationRule.none;
import static dev.diskless.broker.handler.AuthorizationRule.perResource;

import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.AlterPartitionReassignmentsRequest;
import org.apache.kafka.common.requests.AlterUserScramCredentialsRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.CreateAclsRequest;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.DeleteAclsRequest;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DescribeAclsRequest;
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
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;

/**
 * Every API this broker answers, in one table: its handler, the highest version it implements (what
 * ApiVersions advertises) and how it is authorized. The dispatcher, ApiVersions and the
 * authorization checks all read this table, so an API cannot be answered without a declared rule,
 * and adding one touches only this class and its handler.
 */
public final class ApiRegistry {

  /** One API: its handler, highest implemented version and authorization rule. */
  public record Api(
      ApiKeys key, short maxVersion, AuthorizationRule rule, ApiHandler<AbstractRequest> handler) {}

  private final Map<ApiKeys, Api> apis = new EnumMap<>(ApiKeys.class);

  public ApiRegistry(BrokerContext broker) {
    var metadata = new MetadataHandler(broker);
    var fetch = new FetchHandler(broker);
    var produce = new ProduceHandler(broker);
    add(
        ApiKeys.API_VERSIONS,
        4,
        none("anyone may ask what the broker offers"),
        new ApiVersionsHandler(this::maxVersions)::handle);
    // Answered by the connection (network.KafkaRequestHandler, security.SaslAuthenticator) until
    // authentication completes; these refusals are what comes after it, or on a listener
    // without SASL.
    this.<org.apache.kafka.common.requests.SaslHandshakeRequest>add(
        ApiKeys.SASL_HANDSHAKE,
        1,
        none("the SASL exchange precedes authorization"),
        (ctx, r) ->
            CompletableFuture.completedFuture(
                r.getErrorResponse(
                    new IllegalSaslStateException(
                        "SaslHandshake request received after successful authentication or on a"
                            + " listener without SASL"))));
    this.<org.apache.kafka.common.requests.SaslAuthenticateRequest>add(
        ApiKeys.SASL_AUTHENTICATE,
        2,
        none("the SASL exchange precedes authorization"),
        (ctx, r) ->
            CompletableFuture.completedFuture(
                r.getErrorResponse(
                    new IllegalSaslStateException(
                        "SaslAuthenticate request received after successful authentication"))));
    this.<MetadataRequest>add(
        ApiKeys.METADATA,
        12,
        perResource("DESCRIBE topic; auto-creation CREATE cluster or topic"),
        metadata::handle);
    this.<CreateTopicsRequest>add(
        ApiKeys.CREATE_TOPICS,
        7,
        perResource("CREATE cluster or topic; configs shown with DESCRIBE_CONFIGS topic"),
        new CreateTopicsHandler(broker)::handle);
    this.<ProduceRequest>add(
        ApiKeys.PRODUCE,
        13,
        perResource("WRITE transactional id if transactional; WRITE topic"),
        produce::handle);
    // 18 adds a field only followers send; we have none.
    this.<FetchRequest>add(
        ApiKeys.FETCH, 17, perResource("READ topic; followers CLUSTER_ACTION"), fetch::handle);
    this.<ListOffsetsRequest>add(
        ApiKeys.LIST_OFFSETS,
        9,
        perResource("DESCRIBE topic"),
        new ListOffsetsHandler(broker)::handle);
    this.<InitProducerIdRequest>add(
        ApiKeys.INIT_PRODUCER_ID,
        5,
        perResource("WRITE transactional id; else IDEMPOTENT_WRITE cluster or WRITE on any topic"),
        new InitProducerIdHandler(broker)::handle);
    this.<DeleteTopicsRequest>add(
        ApiKeys.DELETE_TOPICS,
        6,
        perResource("DELETE cluster, else DESCRIBE and DELETE topic"),
        new DeleteTopicsHandler(broker)::handle);
    this.<CreatePartitionsRequest>add(
        ApiKeys.CREATE_PARTITIONS,
        3,
        perResource("ALTER topic"),
        new CreatePartitionsHandler(broker)::handle);
    this.<DescribeConfigsRequest>add(
        ApiKeys.DESCRIBE_CONFIGS,
        4,
        perResource("DESCRIBE_CONFIGS cluster (brokers), topic or group"),
        new DescribeConfigsHandler(broker)::handle);
    this.<IncrementalAlterConfigsRequest>add(
        ApiKeys.INCREMENTAL_ALTER_CONFIGS,
        1,
        perResource("ALTER_CONFIGS cluster (brokers), topic or group"),
        new IncrementalAlterConfigsHandler(broker)::handle);
    this.<AlterConfigsRequest>add(
        ApiKeys.ALTER_CONFIGS,
        2,
        perResource("ALTER_CONFIGS cluster (brokers), topic or group"),
        new AlterConfigsHandler(broker)::handle);
    this.<DescribeClusterRequest>add(
        ApiKeys.DESCRIBE_CLUSTER,
        1,
        none("answered for anyone; authorized operations only with DESCRIBE cluster"),
        new DescribeClusterHandler(broker)::handle);
    this.<DeleteRecordsRequest>add(
        ApiKeys.DELETE_RECORDS,
        2,
        perResource("DELETE topic"),
        new DeleteRecordsHandler(broker)::handle);
    this.<OffsetsForLeaderEpochRequest>add(
        ApiKeys.OFFSET_FOR_LEADER_EPOCH,
        4,
        perResource("CLUSTER_ACTION cluster, else DESCRIBE topic"),
        new OffsetForLeaderEpochHandler(broker)::handle);
    this.<AlterPartitionReassignmentsRequest>add(
        ApiKeys.ALTER_PARTITION_REASSIGNMENTS,
        1,
        cluster(AclOperation.ALTER),
        requestOnly(new AlterPartitionReassignmentsHandler(broker)::handle));
    this.<ListPartitionReassignmentsRequest>add(
        ApiKeys.LIST_PARTITION_REASSIGNMENTS,
        0,
        cluster(AclOperation.DESCRIBE),
        requestOnly(new ListPartitionReassignmentsHandler(broker)::handle));
    this.<ElectLeadersRequest>add(
        ApiKeys.ELECT_LEADERS,
        2,
        cluster(AclOperation.ALTER),
        requestOnly(new ElectLeadersHandler(broker)::handle));
    this.<FindCoordinatorRequest>add(
        ApiKeys.FIND_COORDINATOR,
        6,
        perResource("DESCRIBE group or transactional id"),
        new FindCoordinatorHandler(broker)::handle);
    this.<JoinGroupRequest>add(
        ApiKeys.JOIN_GROUP, 9, perResource("READ group"), new JoinGroupHandler(broker)::handle);
    this.<SyncGroupRequest>add(
        ApiKeys.SYNC_GROUP, 5, perResource("READ group"), new SyncGroupHandler(broker)::handle);
    this.<HeartbeatRequest>add(
        ApiKeys.HEARTBEAT, 4, perResource("READ group"), new HeartbeatHandler(broker)::handle);
    this.<LeaveGroupRequest>add(
        ApiKeys.LEAVE_GROUP, 5, perResource("READ group"), new LeaveGroupHandler(broker)::handle);
    // Up to the last versions that name topics rather than only their ids.
    this.<OffsetCommitRequest>add(
        ApiKeys.OFFSET_COMMIT,
        9,
        perResource("READ group, then READ topic"),
        new OffsetCommitHandler(broker)::handle);
    this.<OffsetFetchRequest>add(
        ApiKeys.OFFSET_FETCH,
        9,
        perResource("DESCRIBE group, then DESCRIBE topic"),
        new OffsetFetchHandler(broker)::handle);
    this.<OffsetDeleteRequest>add(
        ApiKeys.OFFSET_DELETE,
        0,
        perResource("DELETE group, then READ topic"),
        new OffsetDeleteHandler(broker)::handle);
    this.<DescribeGroupsRequest>add(
        ApiKeys.DESCRIBE_GROUPS,
        6,
        perResource("DESCRIBE group"),
        new DescribeGroupsHandler(broker)::handle);
    this.<ListGroupsRequest>add(
        ApiKeys.LIST_GROUPS,
        5,
        perResource("DESCRIBE cluster, else only groups with DESCRIBE"),
        new ListGroupsHandler(broker)::handle);
    this.<DeleteGroupsRequest>add(
        ApiKeys.DELETE_GROUPS,
        2,
        perResource("DELETE group"),
        new DeleteGroupsHandler(broker)::handle);
    this.<ConsumerGroupHeartbeatRequest>add(
        ApiKeys.CONSUMER_GROUP_HEARTBEAT,
        1,
        perResource("READ group; DESCRIBE every subscribed topic"),
        new ConsumerGroupHeartbeatHandler(broker)::handle);
    this.<ConsumerGroupDescribeRequest>add(
        ApiKeys.CONSUMER_GROUP_DESCRIBE,
        1,
        perResource("DESCRIBE group and its members' topics"),
        new ConsumerGroupDescribeHandler(broker)::handle);
    // Transactions version 1 (the transaction.version feature is not finalized, so clients do not
    // use version 2): AddPartitionsToTxn up to the last client version (4 and later are
    // broker-to-broker verification), EndTxn and TxnOffsetCommit up to the last versions before
    // transactions version 2. WriteTxnMarkers, between brokers, at the latest: its markers carry
    // transaction version 0.
    this.<AddPartitionsToTxnRequest>add(
        ApiKeys.ADD_PARTITIONS_TO_TXN,
        3,
        perResource("WRITE transactional id, then WRITE topic"),
        new AddPartitionsToTxnHandler(broker)::handle);
    this.<AddOffsetsToTxnRequest>add(
        ApiKeys.ADD_OFFSETS_TO_TXN,
        4,
        perResource("WRITE transactional id, then READ group"),
        new AddOffsetsToTxnHandler(broker)::handle);
    this.<EndTxnRequest>add(
        ApiKeys.END_TXN,
        4,
        perResource("WRITE transactional id"),
        new EndTxnHandler(broker)::handle);
    this.<TxnOffsetCommitRequest>add(
        ApiKeys.TXN_OFFSET_COMMIT,
        4,
        perResource("WRITE transactional id, READ group, READ topic"),
        new TxnOffsetCommitHandler(broker)::handle);
    this.<WriteTxnMarkersRequest>add(
        ApiKeys.WRITE_TXN_MARKERS,
        Short.MAX_VALUE,
        cluster(AclOperation.ALTER, AclOperation.CLUSTER_ACTION),
        requestOnly(new WriteTxnMarkersHandler(broker)::handle));
    this.<DescribeTransactionsRequest>add(
        ApiKeys.DESCRIBE_TRANSACTIONS,
        0,
        perResource("DESCRIBE transactional id; partitions of topics without DESCRIBE left out"),
        new DescribeTransactionsHandler(broker)::handle);
    this.<ListTransactionsRequest>add(
        ApiKeys.LIST_TRANSACTIONS,
        2,
        perResource("only transactional ids with DESCRIBE"),
        new ListTransactionsHandler(broker)::handle);
    this.<DescribeProducersRequest>add(
        ApiKeys.DESCRIBE_PRODUCERS,
        0,
        perResource("READ topic"),
        new DescribeProducersHandler(broker)::handle);
    // One virtual log dir; 5 adds IsCordoned, which is false for it.
    this.<DescribeLogDirsRequest>add(
        ApiKeys.DESCRIBE_LOG_DIRS,
        5,
        cluster(AclOperation.DESCRIBE),
        requestOnly(
            new DescribeLogDirsHandler(broker.batchIndex(), broker.view(), broker.nodeId())
                ::handle));
    this.<AlterUserScramCredentialsRequest>add(
        ApiKeys.ALTER_USER_SCRAM_CREDENTIALS,
        0,
        cluster(AclOperation.ALTER),
        requestOnly(new AlterUserScramCredentialsHandler(broker.scramCredentials())::handle));
    this.<DescribeUserScramCredentialsRequest>add(
        ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS,
        0,
        cluster(AclOperation.DESCRIBE),
        requestOnly(new DescribeUserScramCredentialsHandler(broker.scramCredentials())::handle));
    var acls = new AclsHandler(broker);
    this.<CreateAclsRequest>add(ApiKeys.CREATE_ACLS, 3, cluster(AclOperation.ALTER), acls::create);
    this.<DescribeAclsRequest>add(
        ApiKeys.DESCRIBE_ACLS, 3, cluster(AclOperation.DESCRIBE), acls::describe);
    this.<DeleteAclsRequest>add(ApiKeys.DELETE_ACLS, 3, cluster(AclOperation.ALTER), acls::delete);
    var quotas = new ClientQuotasHandler(broker);
    this.<org.apache.kafka.common.requests.AlterClientQuotasRequest>add(
        ApiKeys.ALTER_CLIENT_QUOTAS, 1, cluster(AclOperation.ALTER_CONFIGS), quotas::alter);
    this.<org.apache.kafka.common.requests.DescribeClientQuotasRequest>add(
        ApiKeys.DESCRIBE_CLIENT_QUOTAS,
        1,
        cluster(AclOperation.DESCRIBE_CONFIGS),
        quotas::describe);
  }

  /** A handler that needs only the request (its rule is checked before it runs). */
  private static <Q extends AbstractRequest> ApiHandler<Q> requestOnly(
      java.util.function.Function<Q, CompletableFuture<? extends AbstractResponse>> handler) {
    return (ctx, r) -> handler.apply(r);
  }

  @SuppressWarnings("unchecked")
  private <Q extends AbstractRequest> void add(
      ApiKeys key, int maxVersion, AuthorizationRule rule, ApiHandler<Q> handler) {
    if (apis.put(key, new Api(key, (short) maxVersion, rule, (ApiHandler<AbstractRequest>) handler))
        != null) {
      throw new IllegalStateException(key + " registered twice");
    }
  }

  /** The API for {@code key}, if this broker answers it. */
  public Optional<Api> find(ApiKeys key) {
    return Optional.ofNullable(apis.get(key));
  }

  /** Every API this broker answers. */
  public Collection<Api> all() {
    return Collections.unmodifiableCollection(apis.values());
  }

  private Map<ApiKeys, Short> maxVersions() {
    Map<ApiKeys, Short> out = new EnumMap<>(ApiKeys.class);
    apis.values().forEach(a -> out.put(a.key(), a.maxVersion()));
    return out;
  }
}
