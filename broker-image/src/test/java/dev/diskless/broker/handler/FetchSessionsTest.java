package dev.diskless.broker.handler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchRequestData.ForgottenTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

/** The session rules of Kafka's FetchManager, on requests and responses built by hand. */
class FetchSessionsTest {

  private static final Uuid TOPIC = Uuid.randomUuid();
  private static final short V17 = 17;

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final AtomicInteger evicted = new AtomicInteger();
  private final FetchSessions sessions =
      new FetchSessions(2, 120_000, now::get, evicted::incrementAndGet);

  @Test
  void aFullFetchOpensASessionAndLaterFetchesAnswerOnlyPartitionsWithNews() {
    FetchSessions.Context full = sessions.context(V17, request(0, 0, List.of(0, 1, 2), 0));
    assertThat(full.kind()).isEqualTo("full");
    FetchResponseData first = full.respond(read(full.toRead(), 10, -1));
    assertThat(first.sessionId()).isPositive();
    assertThat(partitions(first)).containsExactly(0, 1, 2);
    int id = first.sessionId();

    // Nothing named, nothing new: every partition is read, none answered.
    FetchSessions.Context quiet = sessions.context(V17, request(id, 1, List.of(), 0));
    assertThat(quiet.kind()).isEqualTo("incremental");
    assertThat(partitionsOf(quiet.toRead())).containsExactly(0, 1, 2);
    assertThat(partitions(quiet.respond(read(quiet.toRead(), 10, -1)))).isEmpty();

    // Partition 1 moved on (client names it with its new offset) and got records.
    FetchSessions.Context moved = sessions.context(V17, request(id, 2, List.of(1), 10));
    assertThat(moved.toRead().topics().get(0).partitions())
        .filteredOn(p -> p.partition() == 1)
        .singleElement()
        .satisfies(p -> assertThat(p.fetchOffset()).isEqualTo(10));
    FetchResponseData answer = moved.respond(read(moved.toRead(), 10, 1));
    assertThat(partitions(answer)).containsExactly(1);
    assertThat(answer.sessionId()).isEqualTo(id);
    // Served partitions go to the back of the line.
    FetchSessions.Context next = sessions.context(V17, request(id, 3, List.of(), 0));
    assertThat(partitionsOf(next.toRead())).containsExactly(0, 2, 1);
  }

  @Test
  void errorsAndChangedHighWatermarksAreAlwaysAnswered() {
    int id = open(List.of(0, 1));
    FetchSessions.Context c = sessions.context(V17, request(id, 1, List.of(), 0));
    FetchResponseData read = read(c.toRead(), 10, -1);
    read.responses().get(0).partitions().get(0).setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
    read.responses().get(0).partitions().get(1).setHighWatermark(11);
    assertThat(partitions(c.respond(read))).containsExactly(0, 1);
    // Once the error is gone the partition is sent again, even with the same high watermark.
    FetchSessions.Context after = sessions.context(V17, request(id, 2, List.of(), 0));
    FetchResponseData healed = read(after.toRead(), 10, -1);
    healed.responses().get(0).partitions().get(1).setHighWatermark(11);
    assertThat(partitions(after.respond(healed))).containsExactly(0);
  }

  @Test
  void unknownSessionsWrongEpochsAndMixedTopicIdVersionsAreRefused() {
    int id = open(List.of(0));
    assertThat(sessions.context(V17, request(id + 1, 1, List.of(), 0)).error())
        .contains(Errors.FETCH_SESSION_ID_NOT_FOUND);
    assertThat(sessions.context(V17, request(id, 5, List.of(), 0)).error())
        .contains(Errors.INVALID_FETCH_SESSION_EPOCH);
    assertThat(sessions.context((short) 12, request(id, 1, List.of(), 0)).error())
        .contains(Errors.FETCH_SESSION_TOPIC_ID_ERROR);
    FetchSessions.Context failed = sessions.context(V17, request(id, 5, List.of(), 0));
    assertThat(failed.respond(null).errorCode())
        .isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH.code());
  }

  @Test
  void aRequestOverlappingAnotherOfItsSessionGetsAnEpochError() {
    int id = open(List.of(0));
    FetchSessions.Context first = sessions.context(V17, request(id, 1, List.of(), 0));
    FetchSessions.Context second = sessions.context(V17, request(id, 2, List.of(), 0));
    assertThat(first.respond(read(first.toRead(), 10, -1)).errorCode())
        .isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH.code());
    assertThat(second.respond(read(second.toRead(), 10, -1)).errorCode()).isZero();
  }

  @Test
  void forgettingEveryPartitionClosesTheSessionAndAFinalEpochIsSessionless() {
    int id = open(List.of(0, 1));
    FetchRequestData forget = request(id, 1, List.of(), 0);
    forget
        .forgottenTopicsData()
        .add(new ForgottenTopic().setTopicId(TOPIC).setPartitions(List.of(0, 1)));
    assertThat(sessions.context(V17, forget).kind()).isEqualTo("sessionless");
    assertThat(sessions.size()).isZero();
    FetchSessions.Context closing = sessions.context(V17, request(0, -1, List.of(0), 0));
    assertThat(closing.kind()).isEqualTo("sessionless");
    assertThat(closing.respond(read(closing.toRead(), 1, -1)).sessionId()).isZero();
  }

  @Test
  void aFullCacheEvictsAStaleSessionElseASmallerOneOlderThanTheEvictionTime() {
    int a = open(List.of(0));
    int b = open(List.of(0, 1, 2));
    // Both young: the cache is full and nothing may go.
    assertThat(openIfRoom(List.of(0, 1))).isZero();
    // b is used after the eviction time, a is not: a is stale and gives way.
    now.addAndGet(121_000);
    sessions.context(V17, request(b, 1, List.of(), 0)).respond(new FetchResponseData());
    int c = openIfRoom(List.of(0, 1));
    assertThat(c).isPositive();
    assertThat(evicted.get()).isEqualTo(1);
    assertThat(sessions.context(V17, request(a, 1, List.of(), 0)).error())
        .contains(Errors.FETCH_SESSION_ID_NOT_FOUND);
    // Nothing stale now: only a session past the eviction time with fewer partitions goes.
    now.addAndGet(1_000);
    assertThat(openIfRoom(List.of(0, 1, 2))).isZero();
    assertThat(openIfRoom(List.of(0, 1, 2, 3))).isPositive();
    assertThat(sessions.context(V17, request(b, 2, List.of(), 0)).error())
        .contains(Errors.FETCH_SESSION_ID_NOT_FOUND);
    assertThat(sessions.context(V17, request(c, 1, List.of(), 0)).error()).isEmpty();
  }

  private int openIfRoom(List<Integer> partitions) {
    FetchSessions.Context full = sessions.context(V17, request(0, 0, partitions, 0));
    return full.respond(read(full.toRead(), 1, -1)).sessionId();
  }

  private int open(List<Integer> partitions) {
    FetchSessions.Context full = sessions.context(V17, request(0, 0, partitions, 0));
    return full.respond(read(full.toRead(), 10, -1)).sessionId();
  }

  private static FetchRequestData request(
      int sessionId, int epoch, List<Integer> partitions, long offset) {
    FetchRequestData data =
        new FetchRequestData()
            .setReplicaId(-1)
            .setMaxBytes(1 << 20)
            .setSessionId(sessionId)
            .setSessionEpoch(epoch);
    if (!partitions.isEmpty()) {
      FetchTopic t = new FetchTopic().setTopicId(TOPIC);
      partitions.forEach(
          p ->
              t.partitions()
                  .add(
                      new FetchPartition()
                          .setPartition(p)
                          .setFetchOffset(offset)
                          .setPartitionMaxBytes(1 << 20)));
      data.topics().add(t);
    }
    return data;
  }

  /** What the handler would read: every partition at {@code hw}, records only for one. */
  private static FetchResponseData read(FetchRequestData request, long hw, int withRecords) {
    FetchResponseData r = new FetchResponseData();
    for (FetchTopic t : request.topics()) {
      FetchableTopicResponse tr = new FetchableTopicResponse().setTopicId(t.topicId());
      for (FetchPartition p : t.partitions()) {
        tr.partitions()
            .add(
                new PartitionData()
                    .setPartitionIndex(p.partition())
                    .setHighWatermark(hw)
                    .setLogStartOffset(0)
                    .setRecords(
                        p.partition() == withRecords
                            ? MemoryRecords.withRecords(
                                org.apache.kafka.common.compress.Compression.NONE,
                                new SimpleRecord("v".getBytes()))
                            : MemoryRecords.EMPTY));
      }
      r.responses().add(tr);
    }
    return r;
  }

  private static List<Integer> partitions(FetchResponseData r) {
    List<Integer> out = new ArrayList<>();
    r.responses().forEach(t -> t.partitions().forEach(p -> out.add(p.partitionIndex())));
    return out;
  }

  private static List<Integer> partitionsOf(FetchRequestData r) {
    List<Integer> out = new ArrayList<>();
    r.topics().forEach(t -> t.partitions().forEach(p -> out.add(p.partition())));
    return out;
  }
}
