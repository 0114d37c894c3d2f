package dev.diskless.broker.network;

import dev.diskless.broker.handler.RequestDispatcher;
import dev.diskless.broker.quota.RequestQuota;
import dev.diskless.broker.security.Authentication;
import dev.diskless.broker.security.SaslAuthenticator;
import dev.diskless.broker.security.TlsContexts;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestAndSize;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SaslAuthenticateRequest;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeRequest;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection: parses each frame with Kafka's own codec, hands it to the dispatcher, and writes
 * responses in request order (clients match them by correlation id and require that order), always
 * from this channel's event loop. A frame that cannot be parsed closes only this connection.
 * Produce with acks=0 gets no response. Each request's memory reservation is given back when its
 * response future completes, however it completes. On a SASL listener only ApiVersions,
 * SaslHandshake and SaslAuthenticate are served until the client has authenticated; its principal
 * is in every request's context from then on. Each request's time here counts against its client's
 * request quota ({@link RequestQuota}), and a throttled response mutes the connection.
 */
final class KafkaRequestHandler extends SimpleChannelInboundHandler<RequestFrame> {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaRequestHandler.class);

  /**
   * A request awaiting its response; {@code closeAfter} is set when the connection must go. Its
   * time so far, {@code handlingNanos}, counts against {@code quota} as {@code kind} says.
   */
  private record Pending(
      RequestContext context,
      CompletableFuture<AbstractResponse> response,
      AtomicBoolean closeAfter,
      RequestQuota quota,
      RequestQuota.Kind kind,
      long handlingNanos) {}

  private final java.util.function.Supplier<RequestDispatcher> dispatcher;
  private final SecurityProtocol protocol;
  private final ListenerName listener;
  private final SaslAuthenticator sasl;
  private final TlsContexts tls;

  /** On an SSL listener: who the client certificate says the client is. */
  private KafkaPrincipal certificatePrincipal = KafkaPrincipal.ANONYMOUS;

  private final ArrayDeque<Pending> inOrder = new ArrayDeque<>();

  /**
   * A connection of {@code listener}, whose protocol is {@code protocol}; {@code sasl} is its
   * authenticator on a SASL listener and {@code tls} its certificates on a TLS one, else null.
   */
  KafkaRequestHandler(
      java.util.function.Supplier<RequestDispatcher> dispatcher,
      ListenerName listener,
      SecurityProtocol protocol,
      SaslAuthenticator sasl,
      TlsContexts tls) {
    this.dispatcher = dispatcher;
    this.protocol = protocol;
    this.listener = listener;
    this.sasl = sasl;
    this.tls = tls;
  }

  /**
   * On a SASL listener a connection that has not authenticated within the deadline is closed, so
   * that silent or slow clients do not keep unauthenticated memory and connections.
   */
  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (sasl != null) {
      ctx.executor()
          .schedule(
              () -> {
                if (!sasl.authenticatedOnce() && ctx.channel().isActive()) {
                  LOG.info(
                      "closing connection from {}: not authenticated within {} s",
                      ctx.channel().remoteAddress(),
                      Authentication.AUTHENTICATION_DEADLINE.toSeconds());
                  ctx.close();
                }
              },
              Authentication.AUTHENTICATION_DEADLINE.toMillis(),
              TimeUnit.MILLISECONDS);
    }
    super.channelActive(ctx);
  }

  /** On a TLS listener the principal of an SSL client comes from its certificate, once verified. */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof SslHandshakeCompletionEvent done && tls != null) {
      if (done.isSuccess()) {
        certificatePrincipal =
            tls.principal(ctx.pipeline().get(SslHandler.class).engine().getSession());
      } else {
        LOG.info(
            "closing connection from {}: TLS handshake failed: {}",
            ctx.channel().remoteAddress(),
            done.cause().toString());
        ctx.close();
      }
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, RequestFrame frame) {
    // The request's time on this event loop starts here (RequestQuota).
    long start = System.nanoTime();
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
      response = handle(ctx, buffer, start);
    } finally {
      if (response == null) {
        frame.lease().release();
      } else {
        // The parsed request may still refer to its bytes (Produce records) until answered.
        response.whenComplete((r, t) -> frame.lease().release());
      }
    }
  }

  /**
   * Parses and dispatches one request, read from {@code start}; null if the connection was closed
   * instead.
   */
  private CompletableFuture<AbstractResponse> handle(
      ChannelHandlerContext ctx, ByteBuffer buffer, long start) {
    if (sasl != null && sasl.expectsRawToken()) {
      // After SaslHandshake v0 the tokens come without Kafka's request header.
      byte[] token = new byte[buffer.remaining()];
      buffer.get(token);
      CompletableFuture<AbstractResponse> reply =
          sasl.authenticate(token).thenApply(SaslAuthenticator.Outcome::response);
      inOrder.addLast(
          new Pending(null, reply, new AtomicBoolean(), null, RequestQuota.Kind.UNCOUNTED, 0));
      reply.whenComplete((r, t) -> ctx.executor().execute(() -> flushReady(ctx)));
      return reply;
    }
    RequestContext context;
    RequestAndSize parsed;
    // The frame decoder has already held an unauthenticated request to Kafka's SASL limit.
    boolean authenticating = sasl != null && !sasl.complete();
    try {
      RequestHeader header = RequestHeader.parse(buffer);
      if (authenticating && !allowedBeforeAuthentication(header.apiKey())) {
        // As Kafka: judged by the header alone, the body is never parsed; closed, unanswered.
        LOG.info(
            "closing connection from {}: {} request before SASL authentication completed",
            ctx.channel().remoteAddress(),
            header.apiKey());
        ctx.close();
        return null;
      }
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      context =
          new RequestContext(
              header,
              ctx.channel().id().asShortText(),
              remote.getAddress(),
              sasl != null ? sasl.principal() : certificatePrincipal,
              listener,
              protocol,
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
    ApiKeys api = context.header.apiKey();
    long now = System.nanoTime();
    if (sasl != null && api != ApiKeys.SASL_HANDSHAKE && sasl.expired(now)) {
      // KIP-368: a session that ended without re-authentication takes no more requests.
      sasl.closedExpired();
      ctx.close();
      return null;
    }
    RequestDispatcher ready = dispatcher.get();
    if (ready == null) {
      // Still starting: the client retries on another connection.
      ctx.close();
      return null;
    }
    AtomicBoolean closeAfter = new AtomicBoolean();
    CompletableFuture<AbstractResponse> response =
        switch (api) {
          case SASL_HANDSHAKE, SASL_AUTHENTICATE ->
              sasl(ready, context, parsed.request, now)
                  .thenApply(
                      outcome -> {
                        closeAfter.set(outcome.close());
                        return outcome.response();
                      });
          default -> ready.handle(context, parsed.request);
        };
    long handlingNanos = System.nanoTime() - start;
    RequestQuota quota = ready.requestQuota();
    RequestQuota.Kind kind = RequestQuota.kind(api, parsed.request, authenticating);
    boolean noResponse = api == ApiKeys.PRODUCE && ((ProduceRequest) parsed.request).acks() == 0;
    if (noResponse) {
      // As Kafka: nothing is sent, but a client over its quota is not read for the throttle
      // time, and one whose records were refused is disconnected (its only way to learn of it).
      response.whenComplete(
          (r, t) ->
              ctx.executor()
                  .execute(
                      () -> {
                        if (t != null
                            || r.errorCounts().keySet().stream().anyMatch(e -> e != Errors.NONE)) {
                          LOG.info(
                              "closing connection from {}: an acks=0 produce failed: {}",
                              ctx.channel().remoteAddress(),
                              t != null ? t.toString() : r.errorCounts());
                          ctx.close();
                        } else {
                          throttle(ctx, quota.beforeSend(context, kind, handlingNanos, r));
                        }
                      }));
    } else {
      inOrder.addLast(new Pending(context, response, closeAfter, quota, kind, handlingNanos));
      response.whenComplete((r, t) -> ctx.executor().execute(() -> flushReady(ctx)));
    }
    return response;
  }

  /**
   * What a client may send before it has authenticated: SaslHandshake and SaslAuthenticate, and
   * ApiVersions only before its handshake (as Kafka's SaslServerAuthenticator).
   */
  private boolean allowedBeforeAuthentication(ApiKeys api) {
    return api == ApiKeys.SASL_HANDSHAKE
        || api == ApiKeys.SASL_AUTHENTICATE
        || (api == ApiKeys.API_VERSIONS && sasl.inHandshake());
  }

  /**
   * SaslHandshake or SaslAuthenticate: the connection's authenticator answers them, also when a
   * session that ends is re-authenticated (KIP-368); on a listener without SASL, or after
   * authentication otherwise, the dispatcher's handlers refuse them as Kafka refuses them.
   */
  private CompletableFuture<SaslAuthenticator.Outcome> sasl(
      RequestDispatcher dispatcher, RequestContext context, AbstractRequest request, long now) {
    if (sasl != null
        && (!sasl.complete()
            || request instanceof SaslAuthenticateRequest
            || (request instanceof SaslHandshakeRequest && sasl.mayReauthenticate(now)))) {
      return request instanceof SaslHandshakeRequest handshake
          ? sasl.handshake(handshake, context.header.apiVersion())
          : sasl.authenticate(((SaslAuthenticateRequest) request).data().authBytes());
    }
    return dispatcher
        .handle(context, request)
        .thenApply(response -> new SaslAuthenticator.Outcome(response, false));
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
            "request {} failed without a response: {}",
            p.context == null ? "SASL token" : p.context.header.apiKey(),
            e.toString());
        ctx.close();
        return;
      }
      if (response == null) {
        // The authenticator's way of saying: close without an answer.
        ctx.close();
        return;
      }
      if (p.context == null) {
        writeRawToken(ctx, (SaslAuthenticateResponse) response);
        continue;
      }
      try {
        int throttleMs = p.quota.beforeSend(p.context, p.kind, p.handlingNanos, response);
        long sending = System.nanoTime();
        // A large response is copied as the socket takes it: that time counts when it is spent.
        Object bytes =
            SendBuffer.encode(
                p.context.buildResponseSend(response),
                ctx.alloc(),
                nanos -> p.quota.afterSend(p.context, p.kind, nanos, response));
        if (p.closeAfter.get()) {
          ctx.writeAndFlush(bytes).addListener(ChannelFutureListener.CLOSE);
          return;
        }
        ctx.write(bytes);
        wrote = true;
        p.quota.afterSend(p.context, p.kind, System.nanoTime() - sending, response);
        throttle(ctx, throttleMs);
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

  /**
   * A client over its quota (KIP-219): the response, which says how long to wait, is sent at once,
   * and the connection is not read until that time has passed.
   */
  private static void throttle(ChannelHandlerContext ctx, int throttleMs) {
    if (throttleMs <= 0) {
      return;
    }
    ReadMutes.mute(ctx.channel());
    ctx.executor()
        .schedule(() -> ReadMutes.unmute(ctx.channel()), throttleMs, TimeUnit.MILLISECONDS);
  }

  /**
   * A SaslHandshake v0 exchange's reply: the token alone, size-prefixed; a failure cannot be told
   * in that framing, so the connection is closed, as Kafka does.
   */
  private static void writeRawToken(ChannelHandlerContext ctx, SaslAuthenticateResponse reply) {
    if (reply.data().errorCode() != Errors.NONE.code()) {
      ctx.close();
      return;
    }
    byte[] token = reply.data().authBytes();
    ctx.write(ctx.alloc().buffer(4 + token.length).writeInt(token.length).writeBytes(token));
    ctx.flush();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.info("closing connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
