package dev.diskless.broker.handler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.junit.jupiter.api.Test;

/**
 * A broker whose lease ran out answers nothing from its memory of partitions and coordinators (the
 * chaos harness's cut-postgres-one found a cut-off group coordinator serving stale committed
 * offsets): each kind of request gets the retriable error that sends its client elsewhere.
 */
class LeaseGateTest {

  private static Map<Errors, Integer> errors(AbstractResponse r) {
    return r.errorCounts();
  }

  @Test
  void offsetFetchFromACoordinatorWithoutItsLeaseIsNotCoordinator() {
    OffsetFetchRequest request =
        OffsetFetchRequest.Builder.forTopicNames(
                new OffsetFetchRequestData()
                    .setGroups(
                        List.of(
                            new OffsetFetchRequestData.OffsetFetchRequestGroup()
                                .setGroupId("g")
                                .setTopics(null))),
                false)
            .build(ApiKeys.OFFSET_FETCH.latestVersion());
    AbstractResponse r = LeaseGate.refusal(ApiKeys.OFFSET_FETCH, request).orElseThrow();
    assertThat(errors(r)).containsOnlyKeys(Errors.NOT_COORDINATOR);
  }

  @Test
  void findCoordinatorIsRefusedAsNotAvailable() {
    FindCoordinatorRequest request =
        new FindCoordinatorRequest.Builder(
                new FindCoordinatorRequestData()
                    .setKeyType((byte) 0)
                    .setCoordinatorKeys(List.of("g")))
            .build(ApiKeys.FIND_COORDINATOR.latestVersion());
    AbstractResponse r = LeaseGate.refusal(ApiKeys.FIND_COORDINATOR, request).orElseThrow();
    assertThat(errors(r)).containsOnlyKeys(Errors.COORDINATOR_NOT_AVAILABLE);
  }

  @Test
  void produceIsNotLeaderOnEveryPartition() {
    ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(1000);
    data.topicData()
        .add(
            new ProduceRequestData.TopicProduceData()
                .setName("t")
                .setPartitionData(
                    List.of(
                        new ProduceRequestData.PartitionProduceData()
                            .setIndex(0)
                            .setRecords(MemoryRecords.EMPTY),
                        new ProduceRequestData.PartitionProduceData()
                            .setIndex(1)
                            .setRecords(MemoryRecords.EMPTY))));
    ProduceRequest request = new ProduceRequest(data, (short) 11);
    AbstractResponse r = LeaseGate.refusal(ApiKeys.PRODUCE, request).orElseThrow();
    assertThat(errors(r)).containsExactly(Map.entry(Errors.NOT_LEADER_OR_FOLLOWER, 2));
  }

  @Test
  void metadataWithoutTheLeaseShowsItsOwnPartitionsWithoutALeader() {
    MetadataResponseData data = new MetadataResponseData();
    data.topics()
        .add(
            new MetadataResponseData.MetadataResponseTopic()
                .setName("t")
                .setPartitions(
                    List.of(
                        new MetadataResponseData.MetadataResponsePartition()
                            .setPartitionIndex(0)
                            .setLeaderId(1),
                        new MetadataResponseData.MetadataResponsePartition()
                            .setPartitionIndex(1)
                            .setLeaderId(2))));
    MetadataResponse r =
        LeaseGate.disown(new MetadataResponse(data, ApiKeys.METADATA.latestVersion()), 1);
    var partitions = r.data().topics().find("t").partitions();
    assertThat(partitions.get(0).leaderId()).isEqualTo(-1);
    assertThat(partitions.get(0).errorCode()).isEqualTo(Errors.LEADER_NOT_AVAILABLE.code());
    assertThat(partitions.get(1).leaderId()).isEqualTo(2);
    assertThat(partitions.get(1).errorCode()).isZero();
  }

  @Test
  void anIdempotentProducersIdPassesATransactionalOneIsNotCoordinator() {
    InitProducerIdRequest idempotent =
        new InitProducerIdRequest.Builder(
                new InitProducerIdRequestData()
                    .setTransactionalId(null)
                    .setTransactionTimeoutMs(60_000))
            .build(ApiKeys.INIT_PRODUCER_ID.latestVersion());
    assertThat(LeaseGate.refusal(ApiKeys.INIT_PRODUCER_ID, idempotent)).isEmpty();
    InitProducerIdRequest transactional =
        new InitProducerIdRequest.Builder(
                new InitProducerIdRequestData()
                    .setTransactionalId("t")
                    .setTransactionTimeoutMs(60_000))
            .build(ApiKeys.INIT_PRODUCER_ID.latestVersion());
    assertThat(errors(LeaseGate.refusal(ApiKeys.INIT_PRODUCER_ID, transactional).orElseThrow()))
        .containsOnlyKeys(Errors.NOT_COORDINATOR);
  }

  @Test
  void apiVersionsAndMetadataPass() {
    assertThat(
            LeaseGate.refusal(
                ApiKeys.API_VERSIONS,
                new ApiVersionsRequest(new ApiVersionsRequestData(), (short) 3)))
        .isEmpty();
    assertThat(
            LeaseGate.refusal(
                ApiKeys.METADATA,
                MetadataRequest.Builder.allTopics().build(ApiKeys.METADATA.latestVersion())))
        .isEmpty();
  }
}
