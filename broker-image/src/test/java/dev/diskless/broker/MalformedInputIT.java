package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.testing.PostgresFixture;
import dev.diskless.storage.testing.S3ProxyFixture;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bytes no well-behaved client sends: each one affects only its own connection, gets the error a
 * Kafka broker would send where one exists, and the broker keeps serving everyone else.
 */
class MalformedInputIT {

  private Broker broker;

  @BeforeEach
  void start() throws Exception {
    StorageConfig storage =
        StorageConfig.defaults(
            S3ProxyFixture.get().newBucket(), PostgresFixture.get().newDatabase());
    broker =
        Broker.start(
            new BrokerConfig(
                "broker-m",
                "127.0.0.1",
                0,
                "127.0.0.1",
                java.util.Optional.empty(),
                "malformed",
                java.time.Duration.ofSeconds(10),
                1 << 20,
                storage,
                0,
                java.util.Map.of(),
                java.time.Duration.ofSeconds(30)));
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  @Test
  void oversizedTruncatedUnknownAndNonKafkaFramesCloseOnlyTheirConnection() throws Exception {
    // A size prefix over the 1 MiB limit.
    assertClosedAfter(ByteBuffer.allocate(8).putInt(64 << 20).putInt(0).array());
    // A negative size.
    assertClosedAfter(ByteBuffer.allocate(8).putInt(-5).putInt(0).array());
    // An unknown API key.
    assertClosedAfter(
        frame(
            ByteBuffer.allocate(12)
                .putShort((short) 9999)
                .putShort((short) 0)
                .putInt(1)
                .putShort((short) -1)
                .array()));
    // A known key at a version no broker has.
    assertClosedAfter(
        frame(
            ByteBuffer.allocate(12)
                .putShort(ApiKeys.PRODUCE.id)
                .putShort((short) 999)
                .putInt(1)
                .putShort((short) -1)
                .array()));
    // A frame whose body ends early.
    assertClosedAfter(
        frame(
            ByteBuffer.allocate(6)
                .putShort(ApiKeys.METADATA.id)
                .putShort((short) 12)
                .putShort((short) 0)
                .array()));
    // HTTP on the Kafka port.
    assertClosedAfter("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    // A truncated frame followed by silence: the connection stays open, and the broker is
    // unaffected.
    try (Socket s = new Socket("127.0.0.1", broker.port())) {
      s.getOutputStream().write(ByteBuffer.allocate(6).putInt(100).putShort((short) 1).array());
      s.getOutputStream().flush();
      assertBrokerServes();
    }
    assertBrokerServes();
  }

  @Test
  void aBatchWithABadCrcGetsCorruptMessageAndNothingIsWritten() throws Exception {
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + broker.port()))) {
      admin.createTopics(List.of(new NewTopic("crc", 1, (short) 1))).all().get();
    }
    org.awaitility.Awaitility.await().until(() -> broker.ownedPartitions("crc").size() == 1);
    ByteBuffer records =
        MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("hello".getBytes())).buffer();
    records.put(records.limit() - 1, (byte) (records.get(records.limit() - 1) ^ 1));
    ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
    ProduceRequestData.TopicProduceData topic =
        new ProduceRequestData.TopicProduceData().setName("crc");
    topic
        .partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(0)
                .setRecords(MemoryRecords.readableRecords(records)));
    data.topicData().add(topic);
    short version = 9;
    ProduceRequest request = new ProduceRequest(data, version);
    RequestHeader header = new RequestHeader(ApiKeys.PRODUCE, version, "raw", 42);
    ByteBuffer payload = request.serializeWithHeader(header);
    try (Socket s = new Socket("127.0.0.1", broker.port())) {
      s.getOutputStream().write(frame(toArray(payload)));
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] body = new byte[in.readInt()];
      in.readFully(body);
      ByteBuffer buf = ByteBuffer.wrap(body);
      ResponseHeader rh = ResponseHeader.parse(buf, ApiKeys.PRODUCE.responseHeaderVersion(version));
      assertThat(rh.correlationId()).isEqualTo(42);
      ProduceResponse response = ProduceResponse.parse(new ByteBufferAccessor(buf), version);
      ProduceResponseData.PartitionProduceResponse p =
          response.data().responses().iterator().next().partitionResponses().get(0);
      assertThat(Errors.forCode(p.errorCode())).isEqualTo(Errors.CORRUPT_MESSAGE);
    }
    assertThat(
            broker
                .engine()
                .reader()
                .bounds(broker.ownedPartitions("crc").get(0))
                .join()
                .highWatermark())
        .isZero();
  }

  private void assertClosedAfter(byte[] bytes) throws IOException {
    try (Socket s = new Socket("127.0.0.1", broker.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
      InputStream in = s.getInputStream();
      assertThat(in.read()).as("connection closed by the broker").isEqualTo(-1);
    }
    assertBrokerServes();
  }

  private void assertBrokerServes() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + broker.port());
    try (Admin admin = Admin.create(p)) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    } catch (Exception e) {
      throw new AssertionError("broker stopped serving", e);
    }
  }

  private static byte[] frame(byte[] body) {
    return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
  }

  private static byte[] toArray(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
