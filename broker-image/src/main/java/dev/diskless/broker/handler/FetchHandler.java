package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.ReadReplicas;
import dev.diskless.broker.quota.ClientQuotas;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.log.ReadResult;
import dev.diskless.storage.metadata.PartitionMetadata;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.replica.ClientMetadata;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Reads each requested partition from the storage engine, as Kafka's ReplicaManager does for a
 * consumer:
 *
 * <ul>
 *   <li>On the partition's <b>owner</b> (the leader), a consumer with client metadata (Fetch v11+)
 *       whose rack has a read replica and is not the owner's gets no records but the partition's
 *       offsets and {@code preferredReadReplica} (KIP-392); everyone else is served here.
 *   <li>On a <b>read replica</b> of the partition ({@link ReadReplicas}), a consumer with client
 *       metadata is served the committed log, read through the metadata store and object storage.
 *       Without client metadata (Fetch v10 and older) Kafka's follower answers
 *       NOT_LEADER_OR_FOLLOWER ({@code fetchOnlyLeader}), and so does this broker.
 *   <li>Anywhere else: NOT_LEADER_OR_FOLLOWER.
 * </ul>
 *
 * The {@code currentLeaderEpoch} a fetch names is checked first (FENCED_LEADER_EPOCH /
 * UNKNOWN_LEADER_EPOCH). If fewer than min.bytes came back, the request waits (up to max.wait.ms)
 * for any of its partitions to commit more — owned ones through the local commit listeners, others
 * through {@link ReplicaTailFollower} — then reads once more. Topics are named (up to v12) or given
 * by id (v13 and later). Incremental fetch sessions (KIP-227) are kept by {@link FetchSessions}: a
 * request of a session reads every partition of the session and answers those with news.
 *
 * <p>A read_committed fetch reads up to the last stable offset and gets the aborted transactions
 * overlapping what it reads: the owner has both in memory, a read replica reads them from the
 * metadata store with the partition's bounds.
 */
final class FetchHandler {

  private final BrokerContext broker;
  private final PreferredReadReplica preferred = new PreferredReadReplica();
  private final FetchBytesByZone served;
  private final FetchSessions sessions;
  private final MeterRegistry meters;

  FetchHandler(BrokerContext broker) {
    this.broker = broker;
    this.meters = broker.meters();
    this.served = new FetchBytesByZone(meters);
    Counter evicted =
        Counter.builder("diskless.fetch.session.evictions")
            .description("Fetch sessions evicted to make room for a new one")
            .register(meters);
    this.sessions = new FetchSessions(evicted::increment);
    // Through StorageMetrics: after a rejoin the gauges must read this handler's sessions.
    broker.metrics().gauge("diskless.fetch.sessions", sessions::size);
    broker.metrics().gauge("diskless.fetch.session.partitions", sessions::partitions);
  }

  /**
   * One pass over a request's partitions: the response, and what a long poll waits on — the high
   * watermark read of each owned and each replica-served partition — and whether a consumer was
   * sent to a read replica (answered at once, as Kafka does).
   */
  private record Pass(
      FetchResponseData data,
      Map<TopicPartitionId, Long> owned,
      Map<TopicPartitionId, Long> followed,
      AtomicBoolean redirected) {

    Pass() {
      this(
          new FetchResponseData(),
          new ConcurrentHashMap<>(),
          new ConcurrentHashMap<>(),
          new AtomicBoolean());
    }
  }

  CompletableFuture<FetchResponse> handle(RequestContext context, FetchRequest request) {
    FetchSessions.Context session = sessions.context(request.version(), request.data());
    meters.counter("diskless.fetch.requests", "session", session.kind()).increment();
    if (session.error().isPresent()) {
      return CompletableFuture.completedFuture(FetchResponse.of(session.respond(null)));
    }
    FetchRequestData toRead = session.toRead();
    // As Kafka: one response carries at most what the client's quota allows over its window.
    long quotaCap =
        FetchRequest.isConsumer(request.replicaId())
            ? broker
                .quotas()
                .maxInWindow(ClientQuotas.Type.FETCH, context.principal(), context.clientId())
            : Long.MAX_VALUE;
    FetchRequestData data =
        quotaCap < toRead.maxBytes()
            ? toRead
                .duplicate()
                .setMaxBytes((int) quotaCap)
                .setMinBytes((int) Math.min(toRead.minBytes(), quotaCap))
            : toRead;
    Predicate<String> readable = readable(context, request, data);
    Optional<ClientMetadata> client = clientMetadata(context, request);
    boolean committedOnly = request.isolationLevel() == IsolationLevel.READ_COMMITTED;
    return read(data, readable, client, committedOnly)
        .thenCompose(
            first -> {
              if (bytes(first.data()) >= data.minBytes()
                  || data.maxWaitMs() <= 0
                  || hasError(first.data())
                  || first.redirected().get()) {
                return CompletableFuture.completedFuture(first.data());
              }
              return committedMore(first, data.maxWaitMs())
                  .thenCompose(v -> read(data, readable, client, committedOnly))
                  .thenApply(Pass::data);
            })
        .thenApply(
            r -> {
              // As Kafka: the bytes read count against the consumer's fetch quota; over it, they
              // are not sent (nor counted) and the empty answer says how long to wait.
              long read = bytes(r);
              // Replicas' fetches are exempt, as in Kafka.
              int throttleMs =
                  FetchRequest.isConsumer(request.replicaId())
                      ? broker
                          .quotas()
                          .record(
                              ClientQuotas.Type.FETCH,
                              context.principal(),
                              context.clientId(),
                              read)
                      : 0;
              if (throttleMs > 0) {
                broker
                    .quotas()
                    .unrecord(
                        ClientQuotas.Type.FETCH, context.principal(), context.clientId(), read);
                return FetchResponse.of(session.throttled().setThrottleTimeMs(throttleMs));
              }
              served.record(broker.rack(), request.rackId(), read);
              return FetchResponse.of(session.respond(r));
            });
  }

  /**
   * The topics of {@code data} this fetch may read, by Kafka's rules: READ on the topic for a
   * consumer; a replica's fetch (which no broker of ours sends) needs CLUSTER_ACTION on the
   * cluster.
   */
  private Predicate<String> readable(
      RequestContext context, FetchRequest request, FetchRequestData data) {
    Access access = broker.access();
    if (!FetchRequest.isConsumer(request.replicaId())) {
      return access.cluster(context, AclOperation.CLUSTER_ACTION) ? name -> true : name -> false;
    }
    return access.allowedFilter(
        context,
        AclOperation.READ,
        ResourceType.TOPIC,
        () -> {
          List<String> names = new ArrayList<>();
          for (FetchTopic t : data.topics()) {
            names.add(TopicNames.resolve(broker.view(), t.topic(), t.topicId()));
          }
          return names;
        });
  }

  /**
   * Kafka's client metadata (KafkaApis): present on consumer fetches from v11, which added the
   * rack; a fetch with it may be served by a follower, one without only by the leader.
   */
  private static Optional<ClientMetadata> clientMetadata(
      RequestContext context, FetchRequest request) {
    if (request.version() < 11 || !FetchRequest.isConsumer(request.replicaId())) {
      return Optional.empty();
    }
    // The listener decides which replicas the client can reach.
    return Optional.of(
        new ClientMetadata.DefaultClientMetadata(
            request.rackId(),
            context.clientId(),
            context.clientAddress,
            context.principal,
            context.listenerName.value()));
  }

  /** Completes when a partition the first pass read commits more, or after {@code maxWaitMs}. */
  private CompletableFuture<Void> committedMore(Pass first, int maxWaitMs) {
    CompletableFuture<Void> any = new CompletableFuture<>();
    CompletableFuture<Void> local = broker.waiters().await(List.copyOf(first.owned().keySet()));
    CompletableFuture<Void> remote = broker.tail().await(first.followed());
    local.thenRun(() -> any.complete(null));
    remote.thenRun(() -> any.complete(null));
    // A commit between the first read and registering the waiter fired no listener.
    first
        .owned()
        .forEach(
            (tp, seen) ->
                broker
                    .engine()
                    .logs()
                    .local(tp)
                    .filter(m -> m.highWatermark() != seen)
                    .ifPresent(m -> any.complete(null)));
    any.completeOnTimeout(null, maxWaitMs, TimeUnit.MILLISECONDS)
        .whenComplete(
            (v, t) -> {
              local.complete(null);
              remote.complete(null);
            });
    return any;
  }

  private CompletableFuture<Pass> read(
      FetchRequestData request,
      Predicate<String> readable,
      Optional<ClientMetadata> client,
      boolean committedOnly) {
    Pass pass = new Pass();
    ClusterView.Snapshot snapshot = broker.view().current();
    ReadReplicas replicas = ReadReplicas.in(snapshot);
    List<CompletableFuture<?>> reads = new ArrayList<>();
    AtomicLong budget = new AtomicLong(request.maxBytes());
    for (FetchTopic t : request.topics()) {
      // Fetch v13 and later name topics by id only.
      String name = TopicNames.resolve(broker.view(), t.topic(), t.topicId());
      FetchableTopicResponse tr =
          new FetchableTopicResponse().setTopic(t.topic()).setTopicId(t.topicId());
      pass.data().responses().add(tr);
      for (FetchPartition p : t.partitions()) {
        PartitionData pd =
            new PartitionData()
                .setPartitionIndex(p.partition())
                .setHighWatermark(-1)
                .setLastStableOffset(-1)
                .setLogStartOffset(-1)
                .setRecords(MemoryRecords.EMPTY);
        tr.partitions().add(pd);
        if (name == null) {
          pd.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
          continue;
        }
        if (!readable.test(name)) {
          pd.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
          continue;
        }
        Partitions.Owned owned = Partitions.owned(broker, name, p.partition());
        if (owned.served()) {
          reads.add(
              fromOwner(snapshot, replicas, name, owned, p, pd, client, committedOnly, budget, pass)
                  .exceptionally(e -> fail(pd, e)));
        } else if (owned.error() == Errors.NOT_LEADER_OR_FOLLOWER) {
          reads.add(
              asReadReplica(
                      snapshot, replicas, owned.id(), p, pd, client, committedOnly, budget, pass)
                  .exceptionally(e -> fail(pd, e)));
        } else {
          pd.setErrorCode(owned.error().code());
        }
      }
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> pass);
  }

  private CompletableFuture<Void> fromOwner(
      ClusterView.Snapshot snapshot,
      ReadReplicas replicas,
      String topic,
      Partitions.Owned owned,
      FetchPartition p,
      PartitionData pd,
      Optional<ClientMetadata> client,
      boolean committedOnly,
      AtomicLong budget,
      Pass pass) {
    PartitionMetadata committed = owned.local();
    Errors epoch = Partitions.checkLeaderEpoch(p.currentLeaderEpoch(), committed.leaderEpoch());
    if (epoch != Errors.NONE) {
      pd.setErrorCode(epoch.code());
      return CompletableFuture.completedFuture(null);
    }
    if (client.isPresent()) {
      OptionalInt replica =
          preferred.select(
              snapshot,
              replicas,
              new TopicPartition(topic, p.partition()),
              owned.id(),
              broker.nodeId(),
              committed,
              p.fetchOffset(),
              client.get());
      if (replica.isPresent()) {
        // As ReplicaManager: no read, the leader's offsets, and where to fetch from.
        pd.setHighWatermark(committed.highWatermark())
            .setLastStableOffset(
                broker
                    .engine()
                    .logs()
                    .lastStableOffset(owned.id())
                    .orElse(committed.highWatermark()))
            .setLogStartOffset(committed.logStartOffset())
            .setPreferredReadReplica(replica.getAsInt());
        pass.redirected().set(true);
        return CompletableFuture.completedFuture(null);
      }
    }
    pass.owned().put(owned.id(), committed.highWatermark());
    var reader = broker.engine().reader();
    return (committedOnly
            ? reader.readCommitted(owned.id(), p.fetchOffset(), maxBytes(p, budget))
            : reader.read(owned.id(), p.fetchOffset(), maxBytes(p, budget)))
        .thenAccept(r -> fill(pd, r, committedOnly, budget));
  }

  private CompletableFuture<Void> asReadReplica(
      ClusterView.Snapshot snapshot,
      ReadReplicas replicas,
      TopicPartitionId tp,
      FetchPartition p,
      PartitionData pd,
      Optional<ClientMetadata> client,
      boolean committedOnly,
      AtomicLong budget,
      Pass pass) {
    OptionalInt owner = snapshot.liveOwner(tp);
    if (owner.isEmpty()
        || owner.getAsInt() == broker.nodeId()
        || !replicas.of(tp, owner.getAsInt()).contains(broker.nodeId())) {
      pd.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
      return CompletableFuture.completedFuture(null);
    }
    if (client.isEmpty()) {
      // Kafka's follower checks the named epoch before refusing a fetch that must go to the leader.
      Errors epoch =
          Partitions.checkLeaderEpoch(
              p.currentLeaderEpoch(), snapshot.partitions().get(tp).leaderEpoch());
      pd.setErrorCode((epoch == Errors.NONE ? Errors.NOT_LEADER_OR_FOLLOWER : epoch).code());
      return CompletableFuture.completedFuture(null);
    }
    // The committed bounds and epoch from the metadata store, then the read within them: never
    // above the high watermark the owner has committed (D2).
    var reader = broker.engine().reader();
    if (committedOnly) {
      return reader
          .stableView(tp, p.fetchOffset())
          .thenCompose(
              view -> {
                Errors epoch =
                    Partitions.checkLeaderEpoch(p.currentLeaderEpoch(), view.meta().leaderEpoch());
                if (epoch != Errors.NONE) {
                  pd.setErrorCode(epoch.code());
                  return CompletableFuture.completedFuture(null);
                }
                pass.followed().put(tp, view.meta().highWatermark());
                return reader
                    .readCommitted(view, p.fetchOffset(), maxBytes(p, budget))
                    .thenAccept(r -> fill(pd, r, true, budget));
              });
    }
    return reader
        .bounds(tp)
        .thenCompose(
            committed -> {
              Errors epoch =
                  Partitions.checkLeaderEpoch(p.currentLeaderEpoch(), committed.leaderEpoch());
              if (epoch != Errors.NONE) {
                pd.setErrorCode(epoch.code());
                return CompletableFuture.completedFuture(null);
              }
              pass.followed().put(tp, committed.highWatermark());
              return broker
                  .engine()
                  .reader()
                  .read(committed, p.fetchOffset(), maxBytes(p, budget))
                  .thenAccept(r -> fill(pd, r, false, budget));
            });
  }

  private static int maxBytes(FetchPartition p, AtomicLong budget) {
    return (int) Math.max(1, Math.min(p.partitionMaxBytes(), budget.get()));
  }

  private static void fill(
      PartitionData pd, ReadResult r, boolean committedOnly, AtomicLong budget) {
    int size = r.sizeInBytes();
    budget.addAndGet(-size);
    pd.setHighWatermark(r.highWatermark())
        .setLastStableOffset(r.lastStableOffset())
        .setLogStartOffset(r.logStartOffset())
        .setRecords(RunRecords.of(r.runs(), size));
    if (committedOnly) {
      List<FetchResponseData.AbortedTransaction> aborted =
          new ArrayList<>(r.abortedTransactions().size());
      r.abortedTransactions()
          .forEach(
              a ->
                  aborted.add(
                      new FetchResponseData.AbortedTransaction()
                          .setProducerId(a.producerId())
                          .setFirstOffset(a.firstOffset())));
      pd.setAbortedTransactions(aborted);
    }
  }

  private static Void fail(PartitionData pd, Throwable t) {
    pd.setErrorCode(ErrorCodes.of(t).code())
        .setHighWatermark(-1)
        .setLastStableOffset(-1)
        .setLogStartOffset(-1)
        .setRecords(MemoryRecords.EMPTY);
    return null;
  }

  private static long bytes(FetchResponseData data) {
    long total = 0;
    for (FetchableTopicResponse t : data.responses()) {
      for (PartitionData p : t.partitions()) {
        total += p.records() == null ? 0 : p.records().sizeInBytes();
      }
    }
    return total;
  }

  /**
   * Whether a partition's error must be answered at once. As Kafka, partitions the client may not
   * read or that do not exist are answered with their error but do not cut the wait short (they
   * would, on every request of an incremental session).
   */
  private static boolean hasError(FetchResponseData data) {
    return data.responses().stream()
        .flatMap(t -> t.partitions().stream())
        .anyMatch(
            p ->
                p.errorCode() != Errors.NONE.code()
                    && p.errorCode() != Errors.TOPIC_AUTHORIZATION_FAILED.code()
                    && p.errorCode() != Errors.UNKNOWN_TOPIC_ID.code()
                    && p.errorCode() != Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
  }
}
