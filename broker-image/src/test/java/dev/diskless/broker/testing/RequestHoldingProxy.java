package dev.diskless.broker.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * A {@link FrameProxy} that can keep a request in flight as long as a test wants: once armed with
 * {@link #holdNext}, the next request of that API is not forwarded, nor is anything the client
 * sends after it on that connection, until {@link #release()}. The client meanwhile sees a request
 * in flight to that broker, as when a broker is slow or a hand-over is under way.
 */
public final class RequestHoldingProxy implements AutoCloseable {

  private final AtomicReference<ApiKeys> armed = new AtomicReference<>();
  private final AtomicInteger held = new AtomicInteger();
  private final CountDownLatch released = new CountDownLatch(1);
  private final FrameProxy proxy;

  public RequestHoldingProxy(String host, int port, InetSocketAddress target) throws IOException {
    this.proxy = new FrameProxy(host, port, target, () -> this::forward);
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

  /** On the request side, waits before forwarding the one to hold. */
  private boolean forward(byte[] frame, boolean request) throws InterruptedException {
    if (request) {
      ApiKeys api = ApiKeys.forId(ByteBuffer.wrap(frame).getShort());
      ApiKeys hold = armed.get();
      if (hold == api && armed.compareAndSet(hold, null)) {
        held.incrementAndGet();
        released.await();
      }
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    released.countDown();
    proxy.close();
  }
}
