package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.testing.RawKafkaClient;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.junit.jupiter.api.Test;

/**
 * Produce v13 and Fetch v13+ name topics by id only: the broker resolves ids from metadata and
 * answers UNKNOWN_TOPIC_ID for an id it does not know.
 */
class TopicIdVersionsIT {

  @Test
  void produceAndFetchByTopicId() throws Exception {
    try (Broker broker = Broker.start(BrokerConfig.local("ids", TestStorage.fresh()))) {
      String bootstrap = "127.0.0.1:" + broker.port();
      Uuid id;
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        id =
            admin.createTopics(List.of(new NewTopic("by-id", 1, (short) 1))).topicId("by-id").get();
      }
      org.awaitility.Awaitility.await().until(() -> broker.ownedPartitions("by-id").size() == 1);

      assertThat(produce(broker, id)).isEqualTo(Errors.NONE);
      assertThat(produce(broker, Uuid.randomUuid())).isEqualTo(Errors.UNKNOWN_TOPIC_ID);

      FetchResponseData.PartitionData p = fetch(broker, id);
      assertThat(Errors.forCode(p.errorCode())).isEqualTo(Errors.NONE);
      List<String> values = new java.util.ArrayList<>();
      for (Record r : ((MemoryRecords) p.records()).records()) {
        values.add(new String(org.apache.kafka.common.utils.Utils.toArray(r.value())));
      }
      assertThat(values).containsExactly("by-id");
      assertThat(Errors.forCode(fetch(broker, Uuid.randomUuid()).errorCode()))
          .isEqualTo(Errors.UNKNOWN_TOPIC_ID);
    }
  }

  private static Errors produce(Broker broker, Uuid id) throws Exception {
    ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
    ProduceRequestData.TopicProduceData topic =
        new ProduceRequestData.TopicProduceData().setTopicId(id);
    topic
        .partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(0)
                .setRecords(
                    MemoryRecords.withRecords(
                        Compression.NONE, new SimpleRecord("by-id".getBytes()))));
    data.topicData().add(topic);
    ProduceResponse response =
        (ProduceResponse) RawKafkaClient.send(broker.port(), new ProduceRequest(data, (short) 13));
    ProduceResponseData.TopicProduceResponse t = response.data().responses().iterator().next();
    assertThat(t.topicId()).isEqualTo(id);
    return Errors.forCode(t.partitionResponses().get(0).errorCode());
  }

  private static FetchResponseData.PartitionData fetch(Broker broker, Uuid id) throws Exception {
    FetchRequestData data =
        new FetchRequestData()
            .setReplicaId(-1)
            .setMaxWaitMs(0)
            .setMinBytes(0)
            .setMaxBytes(1 << 20)
            .setSessionId(0)
            .setSessionEpoch(-1);
    data.topics()
        .add(
            new FetchRequestData.FetchTopic()
                .setTopicId(id)
                .setPartitions(
                    List.of(
                        new FetchRequestData.FetchPartition()
                            .setPartition(0)
                            .setFetchOffset(0)
                            .setPartitionMaxBytes(1 << 20))));
    FetchResponse response =
        (FetchResponse) RawKafkaClient.send(broker.port(), new FetchRequest(data, (short) 17));
    FetchResponseData.FetchableTopicResponse t = response.data().responses().get(0);
    assertThat(t.topicId()).isEqualTo(id);
    return t.partitions().get(0);
  }
}
