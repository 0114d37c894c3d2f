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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * A TCP proxy in front of one broker that can keep a request in flight as long as a test wants:
 * once armed with {@link #holdNext}, the next request of that API is not forwarded, nor is anything
 * the client sends after it on that connection, until {@link #release()}. The client meanwhile sees
 * a request in flight to that broker, as when a broker is slow or a hand-over is under way. Listens
 * on {@code host:port} so the broker can advertise that address (e.g. 127.0.0.2 with the broker's
 * own port) and clients never bypass it.
 */
public final class RequestHoldingProxy implements AutoCloseable {

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final AtomicReference<ApiKeys> armed = new AtomicReference<>();
  private final AtomicInteger held = new AtomicInteger();
  private final CountDownLatch released = new CountDownLatch(1);
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  public RequestHoldingProxy(String host, int port, InetSocketAddress target) throws IOException {
    this.server = new ServerSocket(port, 50, InetAddress.getByName(host));
    this.target = target;
    Thread.ofVirtual().start(this::acceptLoop);
  }

  /** Holds the next request of {@code api} (one only) and what follows it on its connection. */
  public void holdNext(ApiKeys api) {
    armed.set(api);
  }

  /** How many requests are held (0 or 1). */
  public int held() {
    return held.get();
  }

  /** Forwards the held request and everything queued behind it, and holds nothing more. */
  public void release() {
    armed.set(null);
    released.countDown();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket broker = new Socket(target.getAddress(), target.getPort());
        sockets.add(client);
        sockets.add(broker);
        Thread.ofVirtual().start(() -> pump(client, broker, true));
        Thread.ofVirtual().start(() -> pump(broker, client, false));
      } catch (IOException e) {
        return;
      }
    }
  }

  /** Copies whole frames; on the request side, waits before forwarding the one to hold. */
  private void pump(Socket from, Socket to, boolean requests) {
    try {
      DataInputStream in = new DataInputStream(from.getInputStream());
      OutputStream out = to.getOutputStream();
      while (true) {
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        if (requests) {
          ApiKeys api = ApiKeys.forId(ByteBuffer.wrap(frame).getShort());
          ApiKeys hold = armed.get();
          if (hold == api && armed.compareAndSet(hold, null)) {
            held.incrementAndGet();
            released.await();
          }
        }
        out.write(ByteBuffer.allocate(4).putInt(size).array());
        out.write(frame);
        out.flush();
      }
    } catch (IOException e) {
      close(from, to);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
    released.countDown();
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
