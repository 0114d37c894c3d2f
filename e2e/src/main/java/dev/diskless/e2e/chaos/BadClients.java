package dev.diskless.e2e.chaos;

import dev.diskless.e2e.chaos.ChaosHistory.Poison;
import dev.diskless.storage.testing.PoisonBatches;
import dev.diskless.storage.testing.RawKafkaClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clients that misbehave against one broker while the workload runs, as the bad-clients fault
 * class: frames of random bytes, a size prefix of 2 GiB, a frame that never finishes, a reader that
 * pipelines requests and never reads the answers, and producers of poison batches — record batches
 * whose CRC is right but whose contents no consumer can read (random records, a record count that
 * lies, compression codec 7, a control batch). Each poison answer lands in the history: a broker
 * that acknowledges one has stored what its consumers will choke on.
 */
final class BadClients {

  private static final Logger LOG = LoggerFactory.getLogger(BadClients.class);

  private final List<InetSocketAddress> everyone;
  private final String host;
  private final int port;
  private final String topic;
  private final int partitions;
  private final ChaosHistory history;
  private final Random random;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Socket> held = new ArrayList<>();
  private final Thread thread;
  private int poisoned;

  BadClients(
      BrokerNode broker,
      List<BrokerNode> all,
      String topic,
      int partitions,
      ChaosHistory history,
      Random random) {
    InetSocketAddress target = address(broker);
    this.host = target.getHostString();
    this.port = target.getPort();
    this.everyone = all.stream().map(BadClients::address).toList();
    this.topic = topic;
    this.partitions = partitions;
    this.history = history;
    this.random = random;
    this.thread = Thread.ofPlatform().name("chaos-bad-clients").start(this::run);
  }

  private void run() {
    int round = 0;
    while (running.get()) {
      try {
        switch (round++ % 5) {
          case 0 -> garbage();
          case 1 -> oversized();
          case 2 -> hold(unfinishedFrame());
          case 3 -> hold(unreadAnswers());
          default -> poison();
        }
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        // The broker closing a bad connection is what should happen; anything else is logged.
        LOG.debug("bad client: {}", e.toString());
      }
    }
  }

  /** A frame of random bytes: the broker must close this connection only. */
  private void garbage() throws IOException {
    byte[] body = new byte[16 + random.nextInt(200)];
    random.nextBytes(body);
    try (Socket s = connect()) {
      s.getOutputStream()
          .write(ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array());
      drainUntilClosed(s);
    }
  }

  /** A size prefix of 2 GiB: refused before a byte of it is buffered. */
  private void oversized() throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE).putInt(0).array());
      drainUntilClosed(s);
    }
  }

  /** A frame that promises 1,000 bytes and sends 10, held open until the fault heals. */
  private Socket unfinishedFrame() throws IOException {
    Socket s = connect();
    s.getOutputStream().write(ByteBuffer.allocate(14).putInt(1000).put(new byte[10]).array());
    return s;
  }

  /**
   * Two hundred Metadata requests sent back to back over a socket with a tiny receive buffer whose
   * answers are never read: the broker must hold them without blocking anyone else.
   */
  private Socket unreadAnswers() throws IOException {
    Socket s = new Socket();
    s.setReceiveBufferSize(1024);
    s.connect(new InetSocketAddress(host, port), 5_000);
    MetadataRequest request =
        new MetadataRequest(new MetadataRequestData().setTopics(null), (short) 9);
    OutputStream out = s.getOutputStream();
    for (int i = 0; i < 200; i++) {
      ByteBuffer payload =
          request.serializeWithHeader(new RequestHeader(ApiKeys.METADATA, (short) 9, "slow", i));
      ByteBuffer frame = ByteBuffer.allocate(4 + payload.remaining());
      frame.putInt(payload.remaining()).put(payload);
      out.write(frame.array());
    }
    out.flush();
    return s;
  }

  private void hold(Socket s) throws IOException {
    synchronized (held) {
      if (!running.get()) {
        s.close();
        return;
      }
      held.add(s);
    }
  }

  /** One poison batch of each kind to a random partition, answers recorded in the history. */
  private void poison() throws IOException {
    int partition = random.nextInt(partitions);
    String value = "poison-" + poisoned++;
    send("random-records", partition, PoisonBatches.randomRecords(value, random));
    send("lying-count", partition, PoisonBatches.lyingCount(value));
    send("codec-7", partition, PoisonBatches.codec7(value));
    send("control", partition, PoisonBatches.withAttributes(PoisonBatches.plain(value), 0x20));
  }

  private static InetSocketAddress address(BrokerNode broker) {
    String[] hostPort = broker.bootstrap().split(":");
    return new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
  }

  /**
   * Sends the batch to every broker, so that the partition's owner, whichever it is, answers; a
   * non-owner's NOT_LEADER_OR_FOLLOWER is recorded only if nobody else answered.
   */
  private void send(String kind, int partition, ByteBuffer batch) throws IOException {
    Poison notOwner = null;
    boolean answered = false;
    for (InetSocketAddress broker : everyone) {
      Poison answer = send(broker, kind, partition, batch.duplicate());
      if (answer.errorCode() == Errors.NOT_LEADER_OR_FOLLOWER.code()) {
        notOwner = answer;
      } else {
        history.add(answer);
        answered = true;
      }
    }
    if (!answered && notOwner != null) {
      history.add(notOwner);
    }
  }

  private Poison send(InetSocketAddress broker, String kind, int partition, ByteBuffer batch)
      throws IOException {
    ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
    ProduceRequestData.TopicProduceData t =
        new ProduceRequestData.TopicProduceData().setName(topic);
    t.partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(partition)
                .setRecords(MemoryRecords.readableRecords(batch)));
    data.topicData().add(t);
    try (Socket s = new Socket()) {
      s.connect(broker, 5_000);
      s.setSoTimeout(15_000);
      ProduceResponse response =
          (ProduceResponse) RawKafkaClient.send(s, 1, new ProduceRequest(data, (short) 3));
      PartitionProduceResponse r =
          response.data().responses().iterator().next().partitionResponses().get(0);
      return new Poison(Workload.now(), kind, partition, r.errorCode(), r.baseOffset());
    }
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(host, port), 5_000);
    s.setSoTimeout(10_000);
    return s;
  }

  private static void drainUntilClosed(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    byte[] buf = new byte[4096];
    while (in.read(buf) >= 0) {
      // Whatever the broker answers first, it must then close.
    }
  }

  /** Stops misbehaving and closes every held connection. */
  void stop() throws InterruptedException {
    running.set(false);
    thread.interrupt();
    thread.join(30_000);
    synchronized (held) {
      for (Socket s : held) {
        try {
          s.close();
        } catch (IOException e) {
          // Already closed by the broker.
        }
      }
      held.clear();
    }
  }
}
