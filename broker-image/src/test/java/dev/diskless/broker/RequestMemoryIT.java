package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The broker-wide request memory budget (queued.max.request.bytes). Issue 10: eight connections
 * each announcing a 95 MiB request exhausted direct memory. Here a 4 MiB budget meets three
 * connections announcing 3 MiB requests and sending only part: one is read, the others are paused
 * without buffering, ordinary clients keep working in what is left, the paused ones are served once
 * memory frees, and everything is given back when connections close, mid-request or not.
 */
class RequestMemoryIT {

  private static final long BUDGET = 4 << 20;
  private static final int PARTIAL = 256 << 10;
  private static final Duration BOUND = Duration.ofSeconds(60);

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor();
  private final AtomicLong maxUsed = new AtomicLong();
  private final AtomicBoolean sampling = new AtomicBoolean(true);
  private Thread sampler;
  private Broker broker;

  @BeforeEach
  void start() throws Exception {
    BrokerConfig local = BrokerConfig.local("memory-broker", TestStorage.fresh());
    broker =
        Broker.start(
            new BrokerConfig(
                    local.instanceId(),
                    local.listenHost(),
                    0,
                    local.advertisedHost(),
                    local.rack(),
                    local.clusterId(),
                    local.lease(),
                    (int) BUDGET,
                    local.storage(),
                    -1,
                    Map.of(),
                    local.drainTimeout())
                .withLimits(local.partitionLimits(), BUDGET),
            new StorageMetrics(meters));
    // Watches the budget for the whole test, not only at the moments assertions look.
    sampler =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  while (sampling.get()) {
                    maxUsed.accumulateAndGet((long) used(), Math::max);
                    Thread.onSpinWait();
                  }
                });
  }

  @AfterEach
  void stop() throws Exception {
    sampling.set(false);
    sampler.join();
    writers.shutdownNow();
    broker.close();
  }

  @Test
  void pausedConnectionsWaitForMemoryWhileOthersAreServed() throws Exception {
    byte[] request = produceRequest(11);
    int size = request.length - 4;
    assertThat((long) size).isGreaterThan(BUDGET / 3).isLessThan(BUDGET);
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket s = new Socket("127.0.0.1", broker.port());
        s.setSoTimeout((int) BOUND.toMillis());
        sockets.add(s);
        s.getOutputStream().write(request, 0, 4 + PARTIAL);
        s.getOutputStream().flush();
      }
      await()
          .atMost(BOUND)
          .untilAsserted(
              () -> {
                assertThat(used()).as("one request admitted").isEqualTo(size);
                assertThat(paused()).as("two connections paused").isEqualTo(2);
              });

      // An ordinary client works in what is left of the budget.
      String bootstrap = "127.0.0.1:" + broker.port();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic("ok", 1, (short) 1))).all().get();
      }
      produceAndConsume(bootstrap);
      assertThat(paused()).as("still paused: the first request is incomplete").isEqualTo(2);

      // The rest of every request: each is answered in turn as memory frees.
      List<Future<?>> rest = new ArrayList<>();
      for (Socket s : sockets) {
        rest.add(
            writers.submit(
                () -> {
                  OutputStream out = s.getOutputStream();
                  out.write(request, 4 + PARTIAL, request.length - 4 - PARTIAL);
                  out.flush();
                  return null;
                }));
      }
      for (Socket s : sockets) {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        ResponseHeader header =
            ResponseHeader.parse(
                ByteBuffer.wrap(response), ApiKeys.PRODUCE.responseHeaderVersion((short) 9));
        assertThat(header.correlationId()).isEqualTo(11);
      }
      for (Future<?> f : rest) {
        f.get(BOUND.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
    assertReleased();
  }

  @Test
  void connectionsClosedMidRequestGiveTheirMemoryBack() throws Exception {
    byte[] request = produceRequest(12);
    int size = request.length - 4;
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Socket s = new Socket("127.0.0.1", broker.port());
      sockets.add(s);
      s.getOutputStream().write(request, 0, 4 + PARTIAL);
      s.getOutputStream().flush();
    }
    await()
        .atMost(BOUND)
        .untilAsserted(
            () -> {
              assertThat(used()).isEqualTo(size);
              assertThat(paused()).isEqualTo(2);
            });
    // The connection holding memory goes first: a paused one is then admitted, and goes too.
    for (Socket s : sockets) {
      s.close();
    }
    assertReleased();
    produceAndConsume("127.0.0.1:" + broker.port());
  }

  private void assertReleased() {
    await()
        .atMost(BOUND)
        .untilAsserted(
            () -> {
              assertThat(used()).as("budget given back").isZero();
              assertThat(paused()).isZero();
            });
    assertThat(maxUsed.get()).as("never past the budget").isPositive().isLessThanOrEqualTo(BUDGET);
  }

  private void produceAndConsume(String bootstrap) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer.send(new ProducerRecord<>("ok", 0, null, "v")).get();
    }
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      TopicPartition tp = new TopicPartition("ok", 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      await()
          .atMost(BOUND)
          .until(() -> !consumer.poll(Duration.ofMillis(200)).records(tp).isEmpty());
    }
  }

  /** A framed Produce v9 of about 3 MiB to a topic that does not exist: it gets an answer. */
  private static byte[] produceRequest(int correlationId) {
    MemoryRecords records =
        MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(new byte[3 << 20]));
    ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(5000);
    ProduceRequestData.TopicProduceData topic =
        new ProduceRequestData.TopicProduceData().setName("absent");
    topic
        .partitionData()
        .add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
    data.topicData().add(topic);
    short version = 9;
    ByteBuffer body =
        new ProduceRequest(data, version)
            .serializeWithHeader(new RequestHeader(ApiKeys.PRODUCE, version, "raw", correlationId));
    byte[] out = new byte[4 + body.remaining()];
    ByteBuffer.wrap(out).putInt(body.remaining()).put(body);
    return out;
  }

  private double used() {
    return meters.get("diskless.requests.memory.used.bytes").gauge().value();
  }

  private double paused() {
    return meters.get("diskless.requests.memory.paused.connections").gauge().value();
  }
}
