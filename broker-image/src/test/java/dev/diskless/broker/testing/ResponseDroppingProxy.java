package dev.diskless.broker.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * A {@link FrameProxy} that loses chosen responses: when the broker answers a request of the given
 * API and the rule says so, the proxy closes the client's connection instead of forwarding the
 * answer — the request took effect, the client never hears of it and retries.
 */
public final class ResponseDroppingProxy implements AutoCloseable {

  private final ApiKeys api;
  private final int dropEvery;
  private final AtomicInteger seen = new AtomicInteger();
  private final AtomicInteger dropped = new AtomicInteger();
  private final FrameProxy proxy;

  /**
   * @param dropEvery drop the response of every n-th request of {@code api} (counting across
   *     connections)
   */
  public ResponseDroppingProxy(
      String host, int port, InetSocketAddress target, ApiKeys api, int dropEvery)
      throws IOException {
    this.api = api;
    this.dropEvery = dropEvery;
    this.proxy = new FrameProxy(host, port, target, this::connectionFilter);
  }

  public int dropped() {
    return dropped.get();
  }

  /** Requests note their API by correlation id; responses look it up. */
  private FrameProxy.Filter connectionFilter() {
    Map<Integer, ApiKeys> inFlight = new ConcurrentHashMap<>();
    return (frame, request) -> {
      ByteBuffer b = ByteBuffer.wrap(frame);
      if (request) {
        short key = b.getShort();
        b.getShort();
        inFlight.put(b.getInt(), ApiKeys.forId(key));
        return true;
      }
      int correlationId = b.getInt();
      if (inFlight.remove(correlationId) == api && seen.incrementAndGet() % dropEvery == 0) {
        dropped.incrementAndGet();
        return false;
      }
      return true;
    };
  }

  @Override
  public void close() throws IOException {
    proxy.close();
  }
}
