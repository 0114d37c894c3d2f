package dev.diskless.broker.handler;

import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.broker.quota.ClientQuotas;
import dev.diskless.broker.topicconfig.TopicAppendSettings;
import dev.diskless.broker.topicconfig.TopicAppendSettingsCache;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.AppendOptions;
import dev.diskless.storage.log.AppendResult;
import dev.diskless.storage.metadata.TopicInfo;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.BatchIndexAndErrorMessage;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.storage.internals.log.RecordValidationException;

/**
 * Validates each partition's records as Kafka does ({@link ProducedRecords}), then appends them to
 * the storage engine, which acknowledges only after they are durable and committed (acks=0, 1 and
 * all are the same here: there are no followers to wait for). Errors are per partition and always
 * ones a producer retries or reports precisely; never UNKNOWN_SERVER_ERROR.
 */
final class ProduceHandler {

  private final BrokerContext broker;
  private final ProduceOrderGuard order = new ProduceOrderGuard();
  private final TopicAppendSettingsCache appendSettings = new TopicAppendSettingsCache();

  ProduceHandler(BrokerContext broker) {
    this.broker = broker;
  }

  /** The idempotent producer of a partition's records, if they carry one. */
  private record Producer(ProduceOrderGuard.Key key, short epoch, int baseSequence) {

    static Optional<Producer> of(Object topic, PartitionProduceData p) {
      if (!(p.records() instanceof MemoryRecords records) || records.sizeInBytes() == 0) {
        return Optional.empty();
      }
      try {
        RecordBatch first = records.batches().iterator().next();
        return first.hasProducerId()
            ? Optional.of(
                new Producer(
                    new ProduceOrderGuard.Key(topic, p.index(), first.producerId()),
                    first.producerEpoch(),
                    first.baseSequence()))
            : Optional.empty();
      } catch (RuntimeException malformed) {
        // Validation answers for it.
        return Optional.empty();
      }
    }
  }

  /** Notes a retriable refusal, so that later batches of the producer wait for this one. */
  private void refused(Optional<Producer> producer, Errors error) {
    if (error.exception() instanceof RetriableException) {
      producer.ifPresent(b -> order.refused(b.key(), b.epoch(), b.baseSequence()));
    }
  }

  CompletableFuture<ProduceResponse> handle(RequestContext context, ProduceRequest request) {
    ProduceResponseData data = new ProduceResponseData();
    List<CompletableFuture<?>> all = new ArrayList<>();
    // As Kafka's KafkaApis: transactional records need an authorized transactional id.
    boolean transactional = RequestUtils.hasTransactionalRecords(request);
    String transactionalId = request.data().transactionalId();
    boolean transactionRefused =
        transactional
            && (transactionalId == null
                || !broker
                    .access()
                    .allowed(
                        context,
                        AclOperation.WRITE,
                        ResourceType.TRANSACTIONAL_ID,
                        transactionalId));
    List<String> names = new ArrayList<>();
    for (TopicProduceData topic : request.data().topicData()) {
      // Produce v13 names topics by id only.
      names.add(TopicNames.resolve(broker.view(), topic.name(), topic.topicId()));
    }
    Predicate<String> writable =
        transactionRefused
            ? name -> false
            : broker
                .access()
                .allowedFilter(context, AclOperation.WRITE, ResourceType.TOPIC, () -> names);
    int i = 0;
    // The request's appends go into one WAL flush: split between two, the whole request would wait
    // for the later one.
    try (var hold = broker.engine().logs().holdFlushes()) {
      for (TopicProduceData topic : request.data().topicData()) {
        String name = names.get(i++);
        TopicProduceResponse t =
            new TopicProduceResponse().setName(topic.name()).setTopicId(topic.topicId());
        data.responses().add(t);
        for (PartitionProduceData p : topic.partitionData()) {
          PartitionProduceResponse r =
              new PartitionProduceResponse()
                  .setIndex(p.index())
                  .setBaseOffset(-1)
                  .setLogAppendTimeMs(-1)
                  .setLogStartOffset(-1);
          t.partitionResponses().add(r);
          if (transactionRefused) {
            r.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code())
                .setErrorMessage(
                    transactionalId == null
                        ? "transactional records need a transactional id"
                        : "not authorized to write transactional id " + transactionalId);
            continue;
          }
          // The key the order guard knows this partition by, as the client names it.
          Object topicKey = Uuid.ZERO_UUID.equals(topic.topicId()) ? topic.name() : topic.topicId();
          Optional<Producer> producer = Producer.of(topicKey, p);
          if (name == null) {
            r.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
            refused(producer, Errors.UNKNOWN_TOPIC_ID);
            continue;
          }
          if (!writable.test(name)) {
            r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
            continue;
          }
          all.add(append(name, request.version(), transactionalId, p, r, producer));
        }
      }
    }
    // As Kafka: the request's bytes count against the client's produce quota; over it, the
    // response says how long to wait and the connection is not read for that long.
    int throttleMs =
        broker.quotas().any()
            ? broker
                .quotas()
                .record(
                    ClientQuotas.Type.PRODUCE,
                    context.principal(),
                    context.clientId(),
                    recordBytes(request))
            : 0;
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> new ProduceResponse(data.setThrottleTimeMs(throttleMs)));
  }

  private static long recordBytes(ProduceRequest request) {
    long bytes = 0;
    for (TopicProduceData topic : request.data().topicData()) {
      for (PartitionProduceData p : topic.partitionData()) {
        if (p.records() != null) {
          bytes += p.records().sizeInBytes();
        }
      }
    }
    return bytes;
  }

  private CompletableFuture<Void> append(
      String topicName,
      short version,
      String transactionalId,
      PartitionProduceData p,
      PartitionProduceResponse r,
      Optional<Producer> producer) {
    MemoryRecords produced;
    try {
      produced = ProducedRecords.present(version, p.records());
    } catch (RuntimeException e) {
      reject(r, e);
      return CompletableFuture.completedFuture(null);
    }
    if (OffsetsTopic.isInternal(topicName)) {
      // Only the group coordinator writes there.
      r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())
          .setErrorMessage("cannot append to internal topic " + topicName);
      return CompletableFuture.completedFuture(null);
    }
    Partitions.Owned owned = Partitions.owned(broker, topicName, p.index());
    if (!owned.served()) {
      r.setErrorCode(owned.error().code());
      refused(producer, owned.error());
      return CompletableFuture.completedFuture(null);
    }
    Optional<String> overtaking =
        producer.flatMap(b -> order.blocked(b.key(), b.epoch(), b.baseSequence()));
    if (overtaking.isPresent()) {
      // Only a producer the partition holds no state for can overtake: for a known one the
      // sequence rules already refuse a gap, and the refused batch may have been appended by
      // another owner meanwhile (the state came with the partition), so the entry is stale.
      if (broker.engine().logs().knowsProducer(owned.id(), producer.get().key().producerId())) {
        order.forget(producer.get().key());
      } else {
        r.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()).setErrorMessage(overtaking.get());
        return CompletableFuture.completedFuture(null);
      }
    }
    Map<String, String> configs =
        broker.view().current().topic(topicName).map(TopicInfo::configs).orElse(Map.of());
    TopicAppendSettings settings = appendSettings.settings(configs);
    // The request's buffer is its own (KafkaRequestHandler copies every request out of the
    // network buffer) and nothing reads the records after the append: the log may keep it.
    AppendOptions options = settings.appendOptions().keepingBuffer();
    ByteBuffer records;
    try {
      records =
          ProducedRecords.validate(
              version,
              produced,
              new TopicPartition(topicName, p.index()),
              settings,
              owned.local().leaderEpoch());
    } catch (RuntimeException e) {
      // Nothing reaches the log, nor the producer's idempotence state.
      reject(r, e);
      return CompletableFuture.completedFuture(null);
    }
    TopicPartition tp = new TopicPartition(topicName, p.index());
    return appendVerified(transactionalId, produced, owned, tp, records, options)
        .handle(
            (AppendResult res, Throwable t) -> {
              if (t != null) {
                Errors error = ErrorCodes.of(t);
                r.setErrorCode(error.code())
                    .setErrorMessage(
                        t.getCause() != null ? t.getCause().getMessage() : t.getMessage());
                refused(producer, error);
              } else {
                producer.ifPresent(b -> order.appended(b.key(), b.epoch(), b.baseSequence()));
                r.setBaseOffset(res.baseOffset())
                    .setLogAppendTimeMs(res.logAppendTime())
                    .setLogStartOffset(res.logStartOffset());
              }
              return null;
            });
  }

  /** A producer on a partition whose first transactional write is being verified. */
  private record Verifying(TopicPartitionId partition, long producerId) {}

  /**
   * Per producer and partition, the gate of the last transactional write waiting for verification:
   * the producer's next writes (pipelined behind it) are sequenced only after it, so verification
   * never reorders a producer's batches.
   */
  private final Map<Verifying, CompletableFuture<Void>> verifying = new ConcurrentHashMap<>();

  /**
   * Appends, with transaction verification (KIP-890 part 1) for a producer's first transactional
   * write to a partition: appended only if its coordinator has the partition in the producer's
   * ongoing transaction, else refused with the error Kafka answers Produce with. Later writes of
   * the same transaction are not checked again; those that arrive while the first is still being
   * checked wait for it, in order.
   */
  private CompletableFuture<AppendResult> appendVerified(
      String transactionalId,
      MemoryRecords produced,
      Partitions.Owned owned,
      TopicPartition tp,
      ByteBuffer records,
      AppendOptions options) {
    var logs = broker.engine().logs();
    int epoch = owned.local().leaderEpoch();
    RecordBatch first = produced.batches().iterator().next();
    if (!first.isTransactional()) {
      return logs.append(owned.id(), epoch, records, options);
    }
    Verifying key = new Verifying(owned.id(), first.producerId());
    if (!verifying.containsKey(key) && logs.inTransaction(owned.id(), first.producerId())) {
      return logs.append(owned.id(), epoch, records, options);
    }
    CompletableFuture<Void> gate = new CompletableFuture<>();
    CompletableFuture<Void> previous = verifying.put(key, gate);
    CompletableFuture<AppendResult> appended =
        (previous == null ? CompletableFuture.<Void>completedFuture(null) : previous)
            .thenCompose(
                v ->
                    logs.inTransaction(owned.id(), first.producerId())
                        ? CompletableFuture.completedFuture(Optional.<Errors>empty())
                        : verify(transactionalId, first, tp))
            .thenCompose(
                refusal -> {
                  CompletableFuture<AppendResult> a =
                      refusal.isPresent()
                          ? CompletableFuture.failedFuture(refusal.get().exception())
                          : logs.append(owned.id(), epoch, records, options);
                  // The append sequenced the batch before it returned: the next may follow.
                  gate.complete(null);
                  return a;
                });
    appended.whenComplete((r, t) -> gate.complete(null));
    gate.thenRun(() -> verifying.remove(key, gate));
    return appended;
  }

  private CompletableFuture<Optional<Errors>> verify(
      String transactionalId, RecordBatch first, TopicPartition tp) {
    return broker
        .verifier()
        .verify(transactionalId, first.producerId(), first.producerEpoch(), tp)
        .thenApply(
            error ->
                switch (error) {
                  case NONE -> Optional.empty();
                  case PRODUCER_FENCED -> Optional.of(Errors.INVALID_PRODUCER_EPOCH);
                  // Retriable for every client version, as Kafka answers it.
                  case CONCURRENT_TRANSACTIONS, COORDINATOR_NOT_AVAILABLE ->
                      Optional.of(Errors.NOT_ENOUGH_REPLICAS);
                  case INVALID_PRODUCER_ID_MAPPING -> Optional.of(error);
                  default -> Optional.of(Errors.INVALID_TXN_STATE);
                });
  }

  private static void reject(PartitionProduceResponse r, RuntimeException e) {
    r.setErrorCode(ErrorCodes.of(e).code());
    if (e instanceof RecordValidationException rve) {
      r.setErrorMessage(rve.invalidException().getMessage());
      rve.recordErrors()
          .forEach(
              re ->
                  r.recordErrors()
                      .add(
                          new BatchIndexAndErrorMessage()
                              .setBatchIndex(re.batchIndex)
                              .setBatchIndexErrorMessage(re.message)));
    } else {
      r.setErrorMessage(e.getMessage());
    }
  }
}
