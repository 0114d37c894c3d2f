package dev.diskless.broker.handler;

import dev.diskless.broker.txn.TransactionCoordinator.InitResult;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Gives an idempotent producer a cluster-unique id at epoch 0; a transactional producer gets its id
 * and a bumped epoch from its transaction coordinator, which fences older producers with the same
 * transactional id and aborts their ongoing transaction.
 */
final class InitProducerIdHandler {

  private final BrokerContext broker;

  InitProducerIdHandler(BrokerContext broker) {
    this.broker = broker;
  }

  CompletableFuture<InitProducerIdResponse> handle(
      RequestContext context, InitProducerIdRequest request) {
    var data = request.data();
    Access access = broker.access();
    // As Kafka: a transactional producer needs WRITE on its id, an idempotent one IDEMPOTENT_WRITE
    // on the cluster or WRITE on some topic.
    if (data.transactionalId() != null
        && !access.allowed(
            context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, data.transactionalId())) {
      return CompletableFuture.completedFuture(
          refused(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
    }
    if (data.transactionalId() == null
        && !access.cluster(context, AclOperation.IDEMPOTENT_WRITE, false)
        && !access.allowedOnAny(context, AclOperation.WRITE, ResourceType.TOPIC)) {
      return CompletableFuture.completedFuture(refused(Errors.CLUSTER_AUTHORIZATION_FAILED));
    }
    if (data.transactionalId() != null) {
      return broker
          .transactions()
          .coordinator()
          .initProducerId(
              data.transactionalId(),
              data.transactionTimeoutMs(),
              data.producerId(),
              data.producerEpoch())
          .thenApply(InitProducerIdHandler::response);
    }
    return broker
        .producerIds()
        .next()
        .thenApply(
            id ->
                new InitProducerIdResponse(
                    new InitProducerIdResponseData().setProducerId(id).setProducerEpoch((short) 0)))
        .exceptionally(
            t ->
                new InitProducerIdResponse(
                    new InitProducerIdResponseData()
                        .setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())));
  }

  private static InitProducerIdResponse refused(Errors error) {
    return new InitProducerIdResponse(
        new InitProducerIdResponseData()
            .setErrorCode(error.code())
            .setProducerId(-1)
            .setProducerEpoch((short) -1));
  }

  private static InitProducerIdResponse response(InitResult r) {
    return new InitProducerIdResponse(
        new InitProducerIdResponseData()
            .setErrorCode(r.error().code())
            .setProducerId(r.producerId())
            .setProducerEpoch(r.producerEpoch()));
  }
}
