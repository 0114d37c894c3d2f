package dev.diskless.broker.network;

import dev.diskless.broker.handler.RequestDispatcher;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestAndSize;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection: parses each frame with Kafka's own codec, hands it to the dispatcher, and writes
 * responses in request order (clients match them by correlation id and require that order), always
 * from this channel's event loop. A frame that cannot be parsed closes only this connection.
 * Produce with acks=0 gets no response. Each request's memory reservation is given back when its
 * response future completes, however it completes.
 */
final class KafkaRequestHandler extends SimpleChannelInboundHandler<RequestFrame> {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaRequestHandler.class);
  private static final ListenerName LISTENER = new ListenerName("PLAINTEXT");

  private record Pending(RequestContext context, CompletableFuture<AbstractResponse> response) {}

  private final java.util.function.Supplier<RequestDispatcher> dispatcher;
  private final ArrayDeque<Pending> inOrder = new ArrayDeque<>();

  KafkaRequestHandler(java.util.function.Supplier<RequestDispatcher> dispatcher) {
    this.dispatcher = dispatcher;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, RequestFrame frame) {
    CompletableFuture<AbstractResponse> response = null;
    try {
      ByteBuffer buffer;
      try {
        buffer = ByteBuffer.allocate(frame.body().readableBytes());
        frame.body().readBytes(buffer);
        buffer.flip();
      } finally {
        frame.body().release();
      }
      response = handle(ctx, buffer);
    } finally {
      if (response == null) {
        frame.lease().release();
      } else {
        // The parsed request may still refer to its bytes (Produce records) until answered.
        response.whenComplete((r, t) -> frame.lease().release());
      }
    }
  }

  /** Parses and dispatches one request; null if the connection was closed instead. */
  private CompletableFuture<AbstractResponse> handle(ChannelHandlerContext ctx, ByteBuffer buffer) {
    RequestContext context;
    RequestAndSize parsed;
    try {
      RequestHeader header = RequestHeader.parse(buffer);
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      context =
          new RequestContext(
              header,
              ctx.channel().id().asShortText(),
              remote.getAddress(),
              KafkaPrincipal.ANONYMOUS,
              LISTENER,
              SecurityProtocol.PLAINTEXT,
              ClientInformation.EMPTY,
              false);
      parsed = context.parseRequest(buffer);
    } catch (RuntimeException e) {
      // Unknown API key, a version we cannot parse, a truncated or garbled body: only this
      // connection goes.
      LOG.info(
          "closing connection from {}: unparseable request: {}",
          ctx.channel().remoteAddress(),
          e.toString());
      ctx.close();
      return null;
    }
    RequestDispatcher ready = dispatcher.get();
    if (ready == null) {
      // Still starting: the client retries on another connection.
      ctx.close();
      return null;
    }
    CompletableFuture<AbstractResponse> response = ready.handle(context, parsed.request);
    boolean noResponse =
        context.header.apiKey() == ApiKeys.PRODUCE && ((ProduceRequest) parsed.request).acks() == 0;
    if (!noResponse) {
      inOrder.addLast(new Pending(context, response));
      response.whenComplete((r, t) -> ctx.executor().execute(() -> flushReady(ctx)));
    }
    return response;
  }

  /** Writes every completed response at the head of the queue; later ones wait for earlier ones. */
  private void flushReady(ChannelHandlerContext ctx) {
    boolean wrote = false;
    while (!inOrder.isEmpty() && inOrder.peekFirst().response.isDone()) {
      Pending p = inOrder.pollFirst();
      AbstractResponse response;
      try {
        response = p.response.join();
      } catch (RuntimeException e) {
        LOG.warn(
            "request {} failed without a response: {}", p.context.header.apiKey(), e.toString());
        ctx.close();
        return;
      }
      try {
        ctx.write(SendBuffer.drain(p.context.buildResponseSend(response), ctx.alloc()));
        wrote = true;
      } catch (Exception e) {
        LOG.warn("cannot serialize a {} response: {}", p.context.header.apiKey(), e.toString());
        ctx.close();
        return;
      }
    }
    if (wrote) {
      ctx.flush();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.info("closing connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
