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
import java.util.function.Supplier;

/**
 * A TCP proxy in front of one broker that forwards whole Kafka frames (size-prefixed requests and
 * responses) and lets a test look at each one on its way: a {@link Filter}, one per connection, may
 * wait before a frame goes on, or close the connection instead of forwarding it. Listens on {@code
 * host:port} so the broker can advertise that address (e.g. 127.0.0.2 with the broker's own port)
 * and clients never bypass it.
 */
public final class FrameProxy implements AutoCloseable {

  /** Sees every frame of one client connection, requests and responses. */
  public interface Filter {
    /**
     * Called before {@code frame} (without its size prefix) is forwarded; may block. False closes
     * the connection instead.
     */
    boolean forward(byte[] frame, boolean request) throws InterruptedException;
  }

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final Supplier<Filter> filters;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  public FrameProxy(String host, int port, InetSocketAddress target, Supplier<Filter> filters)
      throws IOException {
    this.server = new ServerSocket(port, 50, InetAddress.getByName(host));
    this.target = target;
    this.filters = filters;
    Thread.ofVirtual().start(this::acceptLoop);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket broker = new Socket(target.getAddress(), target.getPort());
        sockets.add(client);
        sockets.add(broker);
        Filter filter = filters.get();
        Thread.ofVirtual().start(() -> pump(client, broker, filter, true));
        Thread.ofVirtual().start(() -> pump(broker, client, filter, false));
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void pump(Socket from, Socket to, Filter filter, boolean requests) {
    try {
      DataInputStream in = new DataInputStream(from.getInputStream());
      OutputStream out = to.getOutputStream();
      while (true) {
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        if (!filter.forward(frame, requests)) {
          close(from, to);
          return;
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
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
