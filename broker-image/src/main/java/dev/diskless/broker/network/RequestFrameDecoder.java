package dev.diskless.broker.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Splits a connection's bytes into Kafka requests (a 4-byte size, then that many bytes), reserving
 * each request's size from the broker's {@link RequestMemoryPool} as soon as the size is known and
 * before its body is buffered. When the reservation does not fit, the connection stops being read
 * (auto-read off) until the pool says memory was given back; nothing is allocated for the body in
 * the meantime. Received bytes are composed, never copied into one buffer of the announced size. A
 * size over the maximum or below zero closes the connection, as Kafka's socket.request.max.bytes
 * does. Whatever the connection held is given back when it closes.
 *
 * <p>Not a {@link ByteToMessageDecoder}: that one calls {@code read()} after a read that produced
 * nothing while auto-read is off, which would keep buffering a paused connection.
 */
final class RequestFrameDecoder extends ChannelInboundHandlerAdapter {

  private static final int SIZE_BYTES = 4;

  private final java.util.function.IntSupplier maxFrameBytes;
  private final java.util.function.Supplier<RequestMemoryPool> pools;

  /** The pool this connection waits on for memory, while paused. */
  private RequestMemoryPool pausedOn;

  private final Runnable waiter = this::memoryFreed;
  private ChannelHandlerContext ctx;
  private ByteBuf received;
  private RequestMemoryPool.Lease lease;
  private int bodyBytes = -1;
  private boolean paused;
  private boolean closed;

  /**
   * {@code maxFrameBytes} and {@code pools} are asked for each frame: a SASL connection allows
   * smaller requests, from a pool of their own, until it has authenticated, so connections that
   * never log in cannot hold the memory everyone else's requests are read into.
   */
  RequestFrameDecoder(
      java.util.function.IntSupplier maxFrameBytes,
      java.util.function.Supplier<RequestMemoryPool> pools) {
    this.maxFrameBytes = maxFrameBytes;
    this.pools = pools;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closed) {
      ((ByteBuf) msg).release();
      return;
    }
    received =
        ByteToMessageDecoder.COMPOSITE_CUMULATOR.cumulate(
            ctx.alloc(), received == null ? Unpooled.EMPTY_BUFFER : received, (ByteBuf) msg);
    decode();
  }

  private void decode() {
    while (!closed && received != null) {
      if (lease == null) {
        if (received.readableBytes() < SIZE_BYTES) {
          break;
        }
        int size = received.getInt(received.readerIndex());
        if (size < 0) {
          fail(new CorruptedFrameException("negative request size " + size));
          return;
        }
        int max = maxFrameBytes.getAsInt();
        if (size > max) {
          fail(
              new TooLongFrameException(
                  "request of " + size + " bytes exceeds the maximum of " + max));
          return;
        }
        RequestMemoryPool pool = pools.get();
        lease = pool.tryReserve(size, waiter);
        if (lease == null) {
          pause(pool);
          break;
        }
        resume();
        received.skipBytes(SIZE_BYTES);
        bodyBytes = size;
      }
      if (received.readableBytes() < bodyBytes) {
        break;
      }
      RequestFrame frame = new RequestFrame(received.readRetainedSlice(bodyBytes), lease);
      lease = null;
      bodyBytes = -1;
      ctx.fireChannelRead(frame);
    }
    if (received != null) {
      if (!received.isReadable()) {
        received.release();
        received = null;
      } else {
        received.discardSomeReadBytes();
      }
    }
  }

  private void pause(RequestMemoryPool pool) {
    if (!paused) {
      paused = true;
      pausedOn = pool;
      pool.pausedConnections().incrementAndGet();
      ReadMutes.mute(ctx.channel());
    }
  }

  private void resume() {
    if (paused) {
      paused = false;
      pausedOn.pausedConnections().decrementAndGet();
      pausedOn = null;
      ReadMutes.unmute(ctx.channel());
    }
  }

  /** Runs on whichever thread gave memory back: the retry belongs on this channel's loop. */
  private void memoryFreed() {
    ctx.executor().execute(this::retry);
  }

  private void retry() {
    if (closed || !paused) {
      return;
    }
    decode();
  }

  private void fail(Exception cause) {
    // Before the exception closes the connection: no body of this request is ever read.
    ctx.fireExceptionCaught(cause);
    ctx.close();
    cleanUp();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cleanUp();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cleanUp();
  }

  /** Gives back a reservation of a request cut off mid-body, and stops waiting for memory. */
  private void cleanUp() {
    if (closed) {
      return;
    }
    closed = true;
    if (paused) {
      paused = false;
      pausedOn.cancel(waiter);
      pausedOn.pausedConnections().decrementAndGet();
      pausedOn = null;
    }
    if (lease != null) {
      lease.release();
      lease = null;
    }
    if (received != null) {
      received.release();
      received = null;
    }
  }
}
