package dev.diskless.broker.handler;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.feature.Features;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestContext;

/**
 * Advertises exactly the APIs this broker implements, each up to the version it handles
 * (OffsetCommit and OffsetFetch up to the last versions that name topics rather than only their
 * ids).
 */
final class ApiVersionsHandler {

  /** API → highest version implemented. */
  static final Map<ApiKeys, Short> IMPLEMENTED =
      Map.ofEntries(
          Map.entry(ApiKeys.API_VERSIONS, (short) 4),
          Map.entry(ApiKeys.METADATA, (short) 12),
          Map.entry(ApiKeys.CREATE_TOPICS, (short) 7),
          Map.entry(ApiKeys.PRODUCE, (short) 13),
          // 18 adds a field only followers send; we have none.
          Map.entry(ApiKeys.FETCH, (short) 17),
          Map.entry(ApiKeys.LIST_OFFSETS, (short) 9),
          Map.entry(ApiKeys.INIT_PRODUCER_ID, (short) 5),
          Map.entry(ApiKeys.DELETE_TOPICS, (short) 6),
          Map.entry(ApiKeys.CREATE_PARTITIONS, (short) 3),
          Map.entry(ApiKeys.DESCRIBE_CONFIGS, (short) 4),
          Map.entry(ApiKeys.INCREMENTAL_ALTER_CONFIGS, (short) 1),
          Map.entry(ApiKeys.ALTER_CONFIGS, (short) 2),
          Map.entry(ApiKeys.DESCRIBE_CLUSTER, (short) 1),
          Map.entry(ApiKeys.DELETE_RECORDS, (short) 2),
          Map.entry(ApiKeys.FIND_COORDINATOR, (short) 6),
          Map.entry(ApiKeys.JOIN_GROUP, (short) 9),
          Map.entry(ApiKeys.SYNC_GROUP, (short) 5),
          Map.entry(ApiKeys.HEARTBEAT, (short) 4),
          Map.entry(ApiKeys.LEAVE_GROUP, (short) 5),
          // Up to the last versions that name topics rather than only their ids.
          Map.entry(ApiKeys.OFFSET_COMMIT, (short) 9),
          Map.entry(ApiKeys.OFFSET_FETCH, (short) 9),
          Map.entry(ApiKeys.OFFSET_DELETE, (short) 0),
          Map.entry(ApiKeys.DESCRIBE_GROUPS, (short) 6),
          Map.entry(ApiKeys.LIST_GROUPS, (short) 5),
          Map.entry(ApiKeys.DELETE_GROUPS, (short) 2),
          Map.entry(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1),
          Map.entry(ApiKeys.CONSUMER_GROUP_DESCRIBE, (short) 1),
          Map.entry(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, (short) 1),
          Map.entry(ApiKeys.LIST_PARTITION_REASSIGNMENTS, (short) 0),
          Map.entry(ApiKeys.ELECT_LEADERS, (short) 2),
          Map.entry(ApiKeys.OFFSET_FOR_LEADER_EPOCH, (short) 4),
          // Transactions version 1 (the transaction.version feature is not finalized, so clients
          // do not use version 2): AddPartitionsToTxn up to the last client version (4 and later
          // are broker-to-broker verification), EndTxn and TxnOffsetCommit up to the last
          // versions before transactions version 2. WriteTxnMarkers, between brokers, at the
          // latest: its markers carry transaction version 0.
          Map.entry(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 3),
          Map.entry(ApiKeys.ADD_OFFSETS_TO_TXN, (short) 4),
          Map.entry(ApiKeys.END_TXN, (short) 4),
          Map.entry(ApiKeys.TXN_OFFSET_COMMIT, (short) 4),
          Map.entry(ApiKeys.WRITE_TXN_MARKERS, Short.MAX_VALUE),
          Map.entry(ApiKeys.DESCRIBE_TRANSACTIONS, (short) 0),
          Map.entry(ApiKeys.LIST_TRANSACTIONS, (short) 2),
          Map.entry(ApiKeys.DESCRIBE_PRODUCERS, (short) 0),
          // One virtual log dir; 5 adds IsCordoned, which is false for it.
          Map.entry(ApiKeys.DESCRIBE_LOG_DIRS, (short) 5),
          Map.entry(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, (short) 0),
          Map.entry(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, (short) 0),
          // Answered by the connection (network.KafkaRequestHandler, security.SaslAuthenticator).
          Map.entry(ApiKeys.SASL_HANDSHAKE, (short) 1),
          Map.entry(ApiKeys.SASL_AUTHENTICATE, (short) 2));

  CompletableFuture<ApiVersionsResponse> handle(
      RequestContext context, ApiVersionsRequest request) {
    if (request.hasUnsupportedRequestVersion()) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(0, Errors.UNSUPPORTED_VERSION.exception()));
    }
    ApiVersionCollection versions = new ApiVersionCollection();
    IMPLEMENTED.forEach(
        (key, max) -> {
          ApiVersion v = ApiVersionsResponse.toApiVersion(key);
          versions.add(v.setMaxVersion((short) Math.min(max, v.maxVersion())));
        });
    return CompletableFuture.completedFuture(
        new ApiVersionsResponse.Builder()
            .setApiVersions(versions)
            .setSupportedFeatures(Features.emptySupportedFeatures())
            .setFinalizedFeatures(Map.of())
            .setFinalizedFeaturesEpoch(-1)
            .build());
  }
}
