package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.testing.PoisonBatches;
import dev.diskless.storage.testing.RawKafkaClient;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Produce requests whose batches pass the header and CRC checks but hold records no consumer can
 * read, or flags a client may not set: each gets the error a Kafka broker answers, nothing is
 * stored, and stock clients keep producing and consuming the partition to its end.
 */
class ProduceValidationIT {

  @RegisterExtension final LocalBroker broker = new LocalBroker("produce-validation");

  @Test
  void batchesWithAValidCrcButInvalidContentsAreRefusedAndConsumersReadToTheEnd() throws Exception {
    TopicPartitionId tp = createTopic("checked");
    produce("checked", "none", "before-0", "before-1");
    long hw = highWatermark(tp);
    assertThat(hw).isEqualTo(2);

    // (a) The records section is 40 random bytes.
    ByteBuffer garbage = PoisonBatches.randomRecords("x", new Random(166));
    assertRefused("checked", tp, hw, null, garbage, Errors.INVALID_RECORD);

    // (b) The header says three records; one is inside.
    assertRefused(
        "checked", tp, hw, null, PoisonBatches.lyingCount("only-one"), Errors.INVALID_RECORD);

    // (c) Compression codec 7 does not exist.
    assertRefused(
        "checked",
        tp,
        hw,
        null,
        PoisonBatches.codec7("codec"),
        Errors.UNSUPPORTED_COMPRESSION_TYPE);

    // (d) A control, transactional batch from a client without a transactional id: Kafka refuses
    // transactional records before anything else, and so does this broker.
    ByteBuffer marker = PoisonBatches.withAttributes(PoisonBatches.idempotent("marker"), 0x30);
    assertRefused(
        "checked", tp, hw, null, marker.duplicate(), Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // ... with one, a client still may not write a marker.
    assertRefused("checked", tp, hw, "tx-1", marker, Errors.INVALID_RECORD);
    // Transactional records of a producer the coordinator never initialized fail verification.
    ByteBuffer txn = PoisonBatches.withAttributes(PoisonBatches.idempotent("txn"), 0x10);
    assertRefused("checked", tp, hw, "tx-1", txn, Errors.INVALID_PRODUCER_ID_MAPPING);

    // A control batch that is not transactional: clients may never write control records.
    ByteBuffer control = PoisonBatches.withAttributes(PoisonBatches.idempotent("control"), 0x20);
    assertRefused("checked", tp, hw, null, control, Errors.INVALID_RECORD);

    // Two batches for one partition: Produce v3+ carries exactly one.
    ByteBuffer first = PoisonBatches.plain("one");
    ByteBuffer second = PoisonBatches.plain("two");
    ByteBuffer both = ByteBuffer.allocate(first.remaining() + second.remaining());
    both.put(first).put(second).flip();
    assertRefused("checked", tp, hw, null, both, Errors.INVALID_RECORD);

    // A producer-assigned base offset: Kafka wants 0 from clients.
    ByteBuffer offset = PoisonBatches.plain("offset");
    offset.putLong(0, 5L);
    assertRefused("checked", tp, hw, null, offset, Errors.INVALID_RECORD);

    produce("checked", "none", "after-0", "after-1");
    assertThat(consumeAll("checked", 4))
        .containsExactly("before-0", "before-1", "after-0", "after-1");
  }

  @Test
  void everyCodecFromAStockProducerIsAcceptedAndReadBack() throws Exception {
    createTopic("codecs");
    List<String> expected = new ArrayList<>();
    for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
      String[] values = new String[50];
      for (int i = 0; i < values.length; i++) {
        values[i] = codec + "-" + i + "-" + "x".repeat(i);
        expected.add(values[i]);
      }
      produce("codecs", codec, values);
    }
    assertThat(consumeAll("codecs", expected.size())).isEqualTo(expected);
  }

  @Test
  void nullRecordsGetInvalidRecordAndTheConnectionKeepsServing() throws Exception {
    TopicPartitionId tp = createTopic("nulls");
    try (Socket s = new Socket("127.0.0.1", broker.get().port())) {
      s.setSoTimeout(10_000);
      PartitionProduceResponse r = produceRaw(s, 11, null, null, "nulls");
      assertThat(Errors.forCode(r.errorCode())).isEqualTo(Errors.INVALID_RECORD);
      // The same connection answers the next request.
      ApiVersionsResponse versions =
          (ApiVersionsResponse)
              RawKafkaClient.send(
                  s, 12, new ApiVersionsRequest(new ApiVersionsRequestData(), (short) 3));
      assertThat(Errors.forCode(versions.data().errorCode())).isEqualTo(Errors.NONE);
    }
    assertThat(highWatermark(tp)).isZero();
  }

  private void assertRefused(
      String topic,
      TopicPartitionId tp,
      long hw,
      String transactionalId,
      ByteBuffer batch,
      Errors expected)
      throws IOException {
    try (Socket s = new Socket("127.0.0.1", broker.get().port())) {
      s.setSoTimeout(10_000);
      PartitionProduceResponse r =
          produceRaw(s, 7, transactionalId, MemoryRecords.readableRecords(batch), topic);
      assertThat(Errors.forCode(r.errorCode())).as(r.errorMessage()).isEqualTo(expected);
    }
    assertThat(highWatermark(tp)).as("nothing stored").isEqualTo(hw);
  }

  private PartitionProduceResponse produceRaw(
      Socket s, int correlationId, String transactionalId, MemoryRecords records, String topic)
      throws IOException {
    ProduceRequestData data =
        new ProduceRequestData()
            .setAcks((short) -1)
            .setTimeoutMs(5000)
            .setTransactionalId(transactionalId);
    ProduceRequestData.TopicProduceData t =
        new ProduceRequestData.TopicProduceData().setName(topic);
    t.partitionData()
        .add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
    data.topicData().add(t);
    ProduceResponse response =
        (ProduceResponse)
            RawKafkaClient.send(s, correlationId, new ProduceRequest(data, (short) 3));
    return response.data().responses().iterator().next().partitionResponses().get(0);
  }

  private TopicPartitionId createTopic(String name) throws Exception {
    try (Admin admin = broker.admin()) {
      admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get();
    }
    Awaitility.await().until(() -> broker.get().ownedPartitions(name).size() == 1);
    return broker.get().ownedPartitions(name).get(0);
  }

  private long highWatermark(TopicPartitionId tp) {
    return broker.get().engine().reader().bounds(tp).join().highWatermark();
  }

  private void produce(String topic, String codec, String... values) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "50");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      for (String v : values) {
        sent.add(producer.send(new ProducerRecord<>(topic, 0, "k", v)));
      }
      producer.flush();
      for (java.util.concurrent.Future<?> f : sent) {
        f.get();
      }
    }
  }

  /** Reads the partition from the start with a stock consumer until its position is the end. */
  private List<String> consumeAll(String topic, int expected) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                  assertThat(r.offset()).isEqualTo(values.size());
                  values.add(r.value());
                }
                return consumer.position(tp) == end;
              });
      assertThat(end).isEqualTo(expected);
    }
    return values;
  }
}
