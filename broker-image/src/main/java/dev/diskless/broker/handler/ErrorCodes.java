package dev.diskless.broker.handler;

import dev.diskless.storage.StorageException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.storage.internals.log.RecordValidationException;

/**
 * The one place storage errors become Kafka error codes. Nothing maps to UNKNOWN_SERVER_ERROR for a
 * Produce: clients reset idempotent state on it and create duplicates.
 */
public final class ErrorCodes {

  private ErrorCodes() {}

  public static Errors of(Throwable t) {
    Throwable cause = StorageException.unwrap(t);
    // Kafka's own validation (records of a Produce) reports Kafka exceptions.
    if (cause instanceof RecordValidationException rve) {
      return Errors.forException(rve.invalidException());
    }
    if (cause instanceof ApiException) {
      return Errors.forException(cause);
    }
    if (!(cause instanceof StorageException se)) {
      return Errors.KAFKA_STORAGE_ERROR;
    }
    return switch (se.kind()) {
      case CORRUPT_BATCH -> Errors.CORRUPT_MESSAGE;
      case BATCH_TOO_LARGE -> Errors.MESSAGE_TOO_LARGE;
      case UNKNOWN_PARTITION -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
      case NOT_OWNER, FENCED_EPOCH -> Errors.NOT_LEADER_OR_FOLLOWER;
      case STORAGE_UNAVAILABLE -> Errors.KAFKA_STORAGE_ERROR;
      case OFFSET_OUT_OF_RANGE -> Errors.OFFSET_OUT_OF_RANGE;
      case INVALID_PRODUCER_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
      case OUT_OF_ORDER_SEQUENCE -> Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
      case INVALID_TXN_STATE -> Errors.INVALID_TXN_STATE;
      case COORDINATOR_FENCED -> Errors.TRANSACTION_COORDINATOR_FENCED;
      case INVALID_REQUEST -> Errors.INVALID_REQUEST;
      // As Kafka's controller answers requests that would create too many partitions.
      case LIMIT_EXCEEDED -> Errors.POLICY_VIOLATION;
    };
  }
}
