package dev.diskless.e2e.kube;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts TCP connections on one address and relays each to a target chosen per connection (a ready
 * endpoint of a Service, say), byte for byte in both directions, on virtual threads.
 */
public final class TcpForwarder implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TcpForwarder.class);

  private final ServerSocket server;
  private final Supplier<InetSocketAddress> target;

  public TcpForwarder(InetSocketAddress listen, Supplier<InetSocketAddress> target)
      throws IOException {
    this.target = target;
    server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(listen);
    Thread.ofVirtual().name("forward-" + listen).start(this::acceptLoop);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Thread.ofVirtual().start(() -> relay(in));
      } catch (IOException e) {
        if (!server.isClosed()) {
          LOG.warn("accept on {}: {}", server.getLocalSocketAddress(), e.toString());
        }
      }
    }
  }

  private void relay(Socket in) {
    InetSocketAddress to = target.get();
    if (to == null) {
      // No ready endpoint: refuse as kube-proxy's REJECT rule would.
      closeQuietly(in);
      return;
    }
    Socket out = new Socket();
    try {
      out.connect(to, 3000);
      in.setTcpNoDelay(true);
      out.setTcpNoDelay(true);
      Thread.ofVirtual().start(() -> pump(in, out));
      pump(out, in);
    } catch (IOException e) {
      closeQuietly(in);
      closeQuietly(out);
    }
  }

  private static void pump(Socket from, Socket to) {
    try (InputStream i = from.getInputStream();
        OutputStream o = to.getOutputStream()) {
      i.transferTo(o);
    } catch (IOException closed) {
      // one side went away
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
