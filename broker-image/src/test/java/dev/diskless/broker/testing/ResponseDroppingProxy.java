package dev.diskless.broker.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * A TCP proxy in front of one broker that understands just enough Kafka framing to lose chosen
 * responses: when the broker answers a request of the given API and the rule says so, the proxy
 * closes the client's connection instead of forwarding the answer — the request took effect, the
 * client never hears of it and retries. Listens on {@code host:port} so the broker can advertise
 * that address (e.g. 127.0.0.2 with the broker's own port) and clients never bypass it.
 */
public final class ResponseDroppingProxy implements AutoCloseable {

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final ApiKeys api;
  private final int dropEvery;
  private final AtomicInteger seen = new AtomicInteger();
  private final AtomicInteger dropped = new AtomicInteger();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  /**
   * @param dropEvery drop the response of every n-th request of {@code api} (counting across
   *     connections)
   */
  public ResponseDroppingProxy(
      String host, int port, InetSocketAddress target, ApiKeys api, int dropEvery)
      throws IOException {
    this.server = new ServerSocket(port, 50, InetAddress.getByName(host));
    this.target = target;
    this.api = api;
    this.dropEvery = dropEvery;
    Thread.ofVirtual().start(this::acceptLoop);
  }

  public int dropped() {
    return dropped.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket broker = new Socket(target.getAddress(), target.getPort());
        sockets.add(client);
        sockets.add(broker);
        Map<Integer, ApiKeys> inFlight = new ConcurrentHashMap<>();
        Thread.ofVirtual().start(() -> pump(client, broker, inFlight, true));
        Thread.ofVirtual().start(() -> pump(broker, client, inFlight, false));
      } catch (IOException e) {
        return;
      }
    }
  }

  /** Copies whole frames; requests note their API by correlation id, responses look it up. */
  private void pump(Socket from, Socket to, Map<Integer, ApiKeys> inFlight, boolean requests) {
    try {
      DataInputStream in = new DataInputStream(from.getInputStream());
      OutputStream out = to.getOutputStream();
      while (true) {
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        ByteBuffer b = ByteBuffer.wrap(frame);
        if (requests) {
          short key = b.getShort();
          b.getShort();
          int correlationId = b.getInt();
          inFlight.put(correlationId, ApiKeys.forId(key));
        } else {
          int correlationId = b.getInt();
          if (inFlight.remove(correlationId) == api && seen.incrementAndGet() % dropEvery == 0) {
            dropped.incrementAndGet();
            close(from, to);
            return;
          }
        }
        out.write(ByteBuffer.allocate(4).putInt(size).array());
        out.write(frame);
        out.flush();
      }
    } catch (IOException e) {
      close(from, to);
    }
  }

  private static void close(Socket a, Socket b) {
    try {
      a.close();
    } catch (IOException ignored) {
      // Closing is all that is wanted.
    }
    try {
      b.close();
    } catch (IOException ignored) {
      // As above.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
