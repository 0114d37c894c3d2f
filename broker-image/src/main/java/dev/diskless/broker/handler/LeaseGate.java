package dev.diskless.broker.handler;

import java.util.Optional;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.MetadataResponse;

/**
 * What a broker answers once its lease has run out and it could not renew it (cut off from
 * PostgreSQL, or paused): other brokers may own its partitions and coordinators by now, so its
 * memory of them is stale. Requests that read or change a partition get NOT_LEADER_OR_FOLLOWER,
 * requests to a group or transaction coordinator NOT_COORDINATOR, FindCoordinator
 * COORDINATOR_NOT_AVAILABLE — all retriable, so clients go to the current owner; Metadata shows its
 * own partitions without a leader. Found by the chaos harness: a group coordinator cut from
 * PostgreSQL kept answering OffsetFetch from memory after its successor had taken newer commits, so
 * committed offsets appeared to go backwards. ApiVersions and the admin APIs (which go through
 * PostgreSQL, and fail there) pass.
 */
final class LeaseGate {

  private LeaseGate() {}

  /**
   * Metadata from a broker without its lease: the partitions its stale view says it leads are
   * reported without a leader (LEADER_NOT_AVAILABLE, retriable), so clients ask again rather than
   * come back to it; the rest of the view is left as it is.
   */
  static MetadataResponse disown(MetadataResponse response, int nodeId) {
    for (MetadataResponseTopic topic : response.data().topics()) {
      for (MetadataResponsePartition p : topic.partitions()) {
        if (p.leaderId() == nodeId) {
          p.setLeaderId(-1).setErrorCode(Errors.LEADER_NOT_AVAILABLE.code());
        }
      }
    }
    return response;
  }

  /** The error response for {@code request} when the lease is not held, or empty if it passes. */
  static Optional<AbstractResponse> refusal(ApiKeys api, AbstractRequest request) {
    Errors error =
        switch (api) {
          case API_VERSIONS,
              METADATA,
              DESCRIBE_CLUSTER,
              CREATE_TOPICS,
              DELETE_TOPICS,
              CREATE_PARTITIONS,
              DESCRIBE_CONFIGS,
              INCREMENTAL_ALTER_CONFIGS,
              ALTER_CONFIGS,
              ALTER_PARTITION_REASSIGNMENTS,
              LIST_PARTITION_REASSIGNMENTS,
              ELECT_LEADERS,
              ALTER_USER_SCRAM_CREDENTIALS,
              DESCRIBE_USER_SCRAM_CREDENTIALS,
              DESCRIBE_LOG_DIRS ->
              null;
          case FIND_COORDINATOR -> Errors.COORDINATOR_NOT_AVAILABLE;
          // An idempotent producer's id comes from PostgreSQL, never from memory; a client would
          // look up a transaction coordinator for it on NOT_COORDINATOR.
          case INIT_PRODUCER_ID ->
              ((InitProducerIdRequest) request).data().transactionalId() == null
                  ? null
                  : Errors.NOT_COORDINATOR;
          case PRODUCE,
              FETCH,
              LIST_OFFSETS,
              OFFSET_FOR_LEADER_EPOCH,
              DELETE_RECORDS,
              WRITE_TXN_MARKERS,
              DESCRIBE_PRODUCERS ->
              Errors.NOT_LEADER_OR_FOLLOWER;
          // The group and transaction coordinator APIs.
          default -> Errors.NOT_COORDINATOR;
        };
    return error == null
        ? Optional.empty()
        : Optional.of(request.getErrorResponse(0, error.exception()));
  }
}
