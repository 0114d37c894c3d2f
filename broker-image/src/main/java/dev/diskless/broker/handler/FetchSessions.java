package dev.diskless.broker.handler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchMetadata;
import org.apache.kafka.common.requests.FetchResponse;

/**
 * Kafka's incremental fetch sessions (KIP-227), as its broker keeps them: a consumer's full fetch
 * (session epoch 0) opens a session holding its partitions and their fetch positions; later fetches
 * name only the partitions whose positions changed (and the ones to forget), and their responses
 * carry only partitions with records, a new high watermark or log start offset, or an error. A
 * consumer of many partitions then neither sends nor gets every partition on every fetch.
 *
 * <p>Sessions live in this broker's memory only (a client whose broker restarted gets
 * FETCH_SESSION_ID_NOT_FOUND and starts a new one, as with Kafka). At most {@link #maxSessions} are
 * kept; a new one evicts one unused for {@link #evictionMs}, else the smallest one older than that
 * if it is smaller than the new one, else is not created (the client then sends full fetches).
 * Partitions whose response had records move to the end of their session's order, so a {@code
 * fetch.max.bytes} smaller than what is waiting does not starve the later ones.
 */
final class FetchSessions {

  /** What one Fetch request reads, and how its response is made. */
  interface Context {

    /** A top-level error to answer with at once (the session is unknown or out of step). */
    Optional<Errors> error();

    /** The partitions to read, in order, with the request's limits. */
    FetchRequestData toRead();

    /** The response for the client, from the read of every partition in {@link #toRead()}. */
    FetchResponseData respond(FetchResponseData read);

    /** sessionless, full, incremental or error: for metrics. */
    String kind();

    /**
     * The answer for a client over its fetch quota: no partitions, and the session (if any) moved
     * on by one epoch without anything marked as sent. A full request opens no session.
     */
    default FetchResponseData throttled() {
      return new FetchResponseData().setSessionId(FetchMetadata.INVALID_SESSION_ID);
    }
  }

  /** A partition of a session: its key and the client's last request for it. */
  private static final class Cached {
    final Uuid topicId;
    final String topic;
    final int partition;
    FetchPartition request;
    long highWatermark = -1;
    long logStartOffset = -1;

    Cached(Uuid topicId, String topic, int partition, FetchPartition request) {
      this.topicId = topicId;
      this.topic = topic;
      this.partition = partition;
      this.request = request;
    }

    /** Kafka's rule (CachedPartition): what a client must hear about; remembers what it heard. */
    boolean mustRespond(PartitionData pd) {
      boolean must = FetchResponse.recordsSize(pd) > 0;
      if (highWatermark != pd.highWatermark()) {
        must = true;
        highWatermark = pd.highWatermark();
      }
      if (logStartOffset != pd.logStartOffset()) {
        must = true;
        logStartOffset = pd.logStartOffset();
      }
      if (FetchResponse.isPreferredReplica(pd) || FetchResponse.isDivergingEpoch(pd)) {
        must = true;
      }
      if (pd.errorCode() != Errors.NONE.code()) {
        // Sent again once the error is gone.
        highWatermark = -1;
        must = true;
      }
      return must;
    }
  }

  /** By topic id from Fetch v13 (names are empty there), by name before. */
  private record Key(Uuid topicId, String topic, int partition) {
    static Key of(boolean usesTopicIds, Uuid topicId, String topic, int partition) {
      return usesTopicIds
          ? new Key(topicId, null, partition)
          : new Key(Uuid.ZERO_UUID, topic, partition);
    }
  }

  private static final class Session {
    final int id;
    final boolean usesTopicIds;
    final long createdMs;
    long lastUsedMs;
    int epoch;
    final LinkedHashMap<Key, Cached> partitions = new LinkedHashMap<>();

    Session(int id, boolean usesTopicIds, long now) {
      this.id = id;
      this.usesTopicIds = usesTopicIds;
      this.createdMs = now;
      this.lastUsedMs = now;
      this.epoch = FetchMetadata.nextEpoch(FetchMetadata.INITIAL_EPOCH);
    }
  }

  private final int maxSessions;
  private final long evictionMs;
  private final LongSupplier clock;
  private final Runnable evicted;
  private final Map<Integer, Session> sessions = new HashMap<>();

  /**
   * With Kafka's defaults (max.incremental.fetch.session.cache.slots 1000,
   * min.incremental.fetch.session.eviction.ms 120000); {@code evicted} runs on every eviction.
   */
  FetchSessions(Runnable evicted) {
    this(1000, 120_000, System::currentTimeMillis, evicted);
  }

  FetchSessions(int maxSessions, long evictionMs, LongSupplier clock, Runnable evicted) {
    this.maxSessions = maxSessions;
    this.evictionMs = evictionMs;
    this.clock = clock;
    this.evicted = evicted;
  }

  synchronized int size() {
    return sessions.size();
  }

  synchronized long partitions() {
    return sessions.values().stream().mapToLong(s -> s.partitions.size()).sum();
  }

  /** The context of one request, as Kafka's FetchManager.newContext decides it. */
  Context context(short version, FetchRequestData request) {
    FetchMetadata meta = new FetchMetadata(request.sessionId(), request.sessionEpoch());
    if (meta.isFull()) {
      if (meta.sessionId() != FetchMetadata.INVALID_SESSION_ID) {
        // A full fetch naming a session closes it.
        synchronized (this) {
          sessions.remove(meta.sessionId());
        }
      }
      return meta.epoch() == FetchMetadata.FINAL_EPOCH
          ? new Sessionless(request)
          : new Full(version >= 13, request);
    }
    synchronized (this) {
      Session s = sessions.get(meta.sessionId());
      if (s == null) {
        return new Failed(Errors.FETCH_SESSION_ID_NOT_FOUND, request);
      }
      if (s.epoch != meta.epoch()) {
        return new Failed(Errors.INVALID_FETCH_SESSION_EPOCH, request);
      }
      if (s.usesTopicIds != (version >= 13)) {
        return new Failed(Errors.FETCH_SESSION_TOPIC_ID_ERROR, request);
      }
      update(s, request);
      if (s.partitions.isEmpty()) {
        sessions.remove(s.id);
        return new Sessionless(request);
      }
      s.lastUsedMs = clock.getAsLong();
      s.epoch = FetchMetadata.nextEpoch(s.epoch);
      return new Incremental(s, s.epoch, request);
    }
  }

  /** Adds or updates the partitions the request names, then forgets the ones it says to. */
  private static void update(Session s, FetchRequestData request) {
    for (FetchTopic t : request.topics()) {
      for (FetchPartition p : t.partitions()) {
        Key key = Key.of(s.usesTopicIds, t.topicId(), t.topic(), p.partition());
        Cached c = s.partitions.get(key);
        if (c == null) {
          s.partitions.put(key, new Cached(t.topicId(), t.topic(), p.partition(), p.duplicate()));
        } else {
          c.request = p.duplicate();
        }
      }
    }
    for (FetchRequestData.ForgottenTopic f : request.forgottenTopicsData()) {
      for (int partition : f.partitions()) {
        s.partitions.remove(Key.of(s.usesTopicIds, f.topicId(), f.topic(), partition));
      }
    }
  }

  /** A new session for the partitions of a full fetch, if there is room; else none (0). */
  private synchronized int create(
      boolean usesTopicIds, FetchRequestData request, FetchResponseData read) {
    int size = 0;
    for (FetchTopic t : request.topics()) {
      size += t.partitions().size();
    }
    long now = clock.getAsLong();
    if (sessions.size() >= maxSessions && !evictFor(size, now)) {
      return FetchMetadata.INVALID_SESSION_ID;
    }
    int id;
    do {
      id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
    } while (sessions.containsKey(id));
    Session s = new Session(id, usesTopicIds, now);
    update(s, request);
    // What the full response told the client is what later responses are compared with.
    forEachPartition(
        read,
        (t, pd) -> {
          Cached c =
              s.partitions.get(Key.of(usesTopicIds, t.topicId(), t.topic(), pd.partitionIndex()));
          if (c != null) {
            c.mustRespond(pd);
          }
        });
    sessions.put(id, s);
    return id;
  }

  /** Kafka's tryEvict for consumers: a stale session, else a smaller one past its grace. */
  private boolean evictFor(int size, long now) {
    Session oldest = null;
    Session smallest = null;
    for (Session s : sessions.values()) {
      if (oldest == null || s.lastUsedMs < oldest.lastUsedMs) {
        oldest = s;
      }
      if (now - s.createdMs > evictionMs
          && (smallest == null || s.partitions.size() < smallest.partitions.size())) {
        smallest = s;
      }
    }
    Session victim =
        oldest != null && now - oldest.lastUsedMs > evictionMs
            ? oldest
            : smallest != null && smallest.partitions.size() < size ? smallest : null;
    if (victim == null) {
      return false;
    }
    sessions.remove(victim.id);
    evicted.run();
    return true;
  }

  private interface PartitionVisitor {
    void visit(FetchableTopicResponse topic, PartitionData partition);
  }

  private static void forEachPartition(FetchResponseData read, PartitionVisitor visitor) {
    for (FetchableTopicResponse t : read.responses()) {
      for (PartitionData pd : t.partitions()) {
        visitor.visit(t, pd);
      }
    }
  }

  /** The request's limits with other partitions to read. */
  private static FetchRequestData withTopics(FetchRequestData request, List<FetchTopic> topics) {
    return new FetchRequestData()
        .setReplicaId(request.replicaId())
        .setReplicaState(request.replicaState())
        .setMaxWaitMs(request.maxWaitMs())
        .setMinBytes(request.minBytes())
        .setMaxBytes(request.maxBytes())
        .setIsolationLevel(request.isolationLevel())
        .setSessionId(request.sessionId())
        .setSessionEpoch(request.sessionEpoch())
        .setRackId(request.rackId())
        .setTopics(topics);
  }

  /** Session id 0 and epoch -1: every partition named, every partition answered. */
  private record Sessionless(FetchRequestData toRead) implements Context {
    @Override
    public Optional<Errors> error() {
      return Optional.empty();
    }

    @Override
    public FetchResponseData respond(FetchResponseData read) {
      return read.setSessionId(FetchMetadata.INVALID_SESSION_ID);
    }

    @Override
    public String kind() {
      return "sessionless";
    }
  }

  private record Failed(Errors failure, FetchRequestData request) implements Context {
    @Override
    public Optional<Errors> error() {
      return Optional.of(failure);
    }

    @Override
    public FetchRequestData toRead() {
      return withTopics(request, List.of());
    }

    @Override
    public FetchResponseData respond(FetchResponseData read) {
      return new FetchResponseData()
          .setErrorCode(failure.code())
          .setSessionId(FetchMetadata.INVALID_SESSION_ID);
    }

    @Override
    public String kind() {
      return "error";
    }
  }

  /** Epoch 0: every partition answered, and a session opened for them if there is room. */
  private final class Full implements Context {
    private final boolean usesTopicIds;
    private final FetchRequestData request;

    Full(boolean usesTopicIds, FetchRequestData request) {
      this.usesTopicIds = usesTopicIds;
      this.request = request;
    }

    @Override
    public Optional<Errors> error() {
      return Optional.empty();
    }

    @Override
    public FetchRequestData toRead() {
      return request;
    }

    @Override
    public FetchResponseData respond(FetchResponseData read) {
      return read.setSessionId(create(usesTopicIds, request, read));
    }

    @Override
    public String kind() {
      return "full";
    }
  }

  /** Epoch above 0: every partition of the session read, those with news answered. */
  private final class Incremental implements Context {
    private final Session session;
    private final int epoch;
    private final FetchRequestData toRead;

    Incremental(Session session, int epoch, FetchRequestData request) {
      this.session = session;
      this.epoch = epoch;
      // Built under the cache's lock, in session order.
      Map<Object, FetchTopic> topics = new LinkedHashMap<>();
      for (Cached c : session.partitions.values()) {
        Object topicKey = session.usesTopicIds ? c.topicId : c.topic;
        topics
            .computeIfAbsent(
                topicKey, k -> new FetchTopic().setTopic(c.topic).setTopicId(c.topicId))
            .partitions()
            .add(c.request.duplicate());
      }
      this.toRead = withTopics(request, new ArrayList<>(topics.values()));
    }

    @Override
    public Optional<Errors> error() {
      return Optional.empty();
    }

    @Override
    public FetchRequestData toRead() {
      return toRead;
    }

    @Override
    public FetchResponseData throttled() {
      return respond(new FetchResponseData());
    }

    @Override
    public FetchResponseData respond(FetchResponseData read) {
      synchronized (FetchSessions.this) {
        if (session.epoch != epoch || sessions.get(session.id) != session) {
          // Another request of the session came in meanwhile (Kafka: a duplicate request).
          return new FetchResponseData()
              .setErrorCode(Errors.INVALID_FETCH_SESSION_EPOCH.code())
              .setSessionId(session.id);
        }
        Iterator<FetchableTopicResponse> topics = read.responses().iterator();
        while (topics.hasNext()) {
          FetchableTopicResponse t = topics.next();
          Iterator<PartitionData> partitions = t.partitions().iterator();
          while (partitions.hasNext()) {
            PartitionData pd = partitions.next();
            Key key = Key.of(session.usesTopicIds, t.topicId(), t.topic(), pd.partitionIndex());
            Cached c = session.partitions.get(key);
            if (c == null || !c.mustRespond(pd)) {
              partitions.remove();
            } else if (FetchResponse.recordsSize(pd) > 0) {
              // Served: to the back of the line.
              session.partitions.remove(key);
              session.partitions.put(key, c);
            }
          }
          if (t.partitions().isEmpty()) {
            topics.remove();
          }
        }
        return read.setSessionId(session.id);
      }
    }

    @Override
    public String kind() {
      return "incremental";
    }
  }
}
