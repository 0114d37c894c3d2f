package dev.diskless.broker.network;

import dev.diskless.broker.handler.RequestDispatcher;
import dev.diskless.broker.security.Authentication;
import dev.diskless.broker.security.SaslAuthenticator;
import dev.diskless.broker.security.TlsContexts;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.auth.SecurityProtocol;

/**
 * The Kafka listeners (each PLAINTEXT; SSL with {@link TlsContexts}; SASL_PLAINTEXT with an {@link
 * Authentication}; SASL_SSL with both): Netty servers sharing one set of event loops and one
 * broker-wide {@link RequestMemoryPool}, whose pipelines (after Netty's SslHandler on a TLS
 * listener) are a length-prefixed frame decoder (frames over the maximum size close the connection;
 * a connection whose next request does not fit in the pool is not read) followed by {@link
 * KafkaRequestHandler}, which tells handlers the listener a request came in on. Event loops never
 * block: handlers return futures completed by storage threads.
 */
public final class KafkaServer implements AutoCloseable {

  /** Memory for the requests of all connections still authenticating: 64 of the largest. */
  static final long UNAUTHENTICATED_REQUEST_BYTES = 64L * Authentication.MAX_UNAUTHENTICATED_BYTES;

  /**
   * One listener to bind: {@code authentication} on a SASL listener and {@code tls} on an encrypted
   * one, else null.
   */
  public record Binding(
      ListenerName name,
      String host,
      int port,
      SecurityProtocol protocol,
      Authentication authentication,
      TlsContexts tls) {
    public Binding {
      boolean encrypted = protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
      if (encrypted != (tls != null)) {
        throw new IllegalArgumentException(
            "an SSL or SASL_SSL listener needs TLS; no other one does");
      }
      boolean saslListener =
          protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
      if (saslListener != (authentication != null)) {
        throw new IllegalArgumentException(
            "a SASL listener needs an authenticator; no other one does");
      }
    }
  }

  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
  private final Map<String, Channel> channels = new LinkedHashMap<>();
  private final List<TlsContexts> tls = new ArrayList<>();

  /** Binds every listener; if one cannot be bound, those bound already are closed again. */
  public KafkaServer(
      int maxFrameBytes,
      long queuedMaxRequestBytes,
      MeterRegistry meters,
      java.util.function.Supplier<RequestDispatcher> dispatcher,
      List<Binding> bindings)
      throws InterruptedException {
    RequestMemoryPool memory = new RequestMemoryPool(queuedMaxRequestBytes).bindTo(meters);
    // Requests of clients that have not authenticated yet (at most 512 KiB each) come from a pool
    // of their own.
    RequestMemoryPool unauthenticated = new RequestMemoryPool(UNAUTHENTICATED_REQUEST_BYTES);
    // Every listener's TLS files are watched from the start: closed with the server, also those of
    // listeners after one that cannot be bound.
    for (Binding b : bindings) {
      if (b.tls() != null) {
        tls.add(b.tls().bindTo(meters, b.name().value()));
      }
    }
    try {
      for (Binding b : bindings) {
        channels.put(
            b.name().value(),
            bind(b, maxFrameBytes, memory, unauthenticated, dispatcher).sync().channel());
      }
    } catch (Exception e) {
      // Netty rethrows a bind failure (BindException) unchecked: close what was bound either way.
      close();
      if (e instanceof InterruptedException ie) {
        throw ie;
      }
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("cannot bind a listener: " + e, e);
    }
  }

  private io.netty.channel.ChannelFuture bind(
      Binding b,
      int maxFrameBytes,
      RequestMemoryPool memory,
      RequestMemoryPool unauthenticated,
      java.util.function.Supplier<RequestDispatcher> dispatcher) {
    Authentication authentication = b.authentication();
    TlsContexts contexts = b.tls();
    return new ServerBootstrap()
        .group(boss, workers)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                SaslAuthenticator sasl =
                    authentication == null
                        ? null
                        : authentication.connection(ch.remoteAddress().getAddress());
                // Kafka's sasl.server.max.receive.size until the client has authenticated.
                java.util.function.IntSupplier frameLimit =
                    sasl == null
                        ? () -> maxFrameBytes
                        : () ->
                            sasl.complete()
                                ? maxFrameBytes
                                : Math.min(maxFrameBytes, Authentication.MAX_UNAUTHENTICATED_BYTES);
                java.util.function.Supplier<RequestMemoryPool> pool =
                    sasl == null ? () -> memory : () -> sasl.complete() ? memory : unauthenticated;
                if (contexts != null) {
                  // Each connection takes the context current now: a renewed certificate applies
                  // to new connections.
                  ch.pipeline().addLast("tls", contexts.current().newHandler(ch.alloc()));
                }
                ch.pipeline()
                    .addLast("frameDecoder", new RequestFrameDecoder(frameLimit, pool))
                    // Large responses are copied out a piece at a time as the socket takes them.
                    .addLast("chunkedWriter", new ChunkedWriteHandler())
                    .addLast(
                        "requestHandler",
                        new KafkaRequestHandler(
                            dispatcher, b.name(), b.protocol(), sasl, contexts));
              }
            })
        .bind(b.host(), b.port());
  }

  /** The port {@code listener} is bound to. */
  public int port(String listener) {
    Channel channel = channels.get(listener);
    if (channel == null) {
      throw new IllegalArgumentException("no listener " + listener + " in " + channels.keySet());
    }
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    tls.forEach(TlsContexts::close);
    channels.values().forEach(c -> c.close().syncUninterruptibly());
    boss.shutdownGracefully();
    workers.shutdownGracefully();
  }
}
