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
import java.net.InetSocketAddress;
import org.apache.kafka.common.security.auth.SecurityProtocol;

/**
 * The Kafka listener (PLAINTEXT; SSL with {@link TlsContexts}; SASL_PLAINTEXT with an {@link
 * Authentication}; SASL_SSL with both): a Netty server whose pipeline (after Netty's SslHandler on
 * a TLS listener) is a length-prefixed frame decoder (frames over the maximum size close the
 * connection; every request's bytes come out of one broker-wide {@link RequestMemoryPool}, and a
 * connection whose next request does not fit is not read) followed by {@link KafkaRequestHandler}.
 * Event loops never block: handlers return futures completed by storage threads.
 */
public final class KafkaServer implements AutoCloseable {

  /** Memory for the requests of all connections still authenticating: 64 of the largest. */
  static final long UNAUTHENTICATED_REQUEST_BYTES = 64L * Authentication.MAX_UNAUTHENTICATED_BYTES;

  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
  private final Channel channel;
  private final TlsContexts tls;

  public KafkaServer(
      String host,
      int port,
      int maxFrameBytes,
      long queuedMaxRequestBytes,
      MeterRegistry meters,
      java.util.function.Supplier<RequestDispatcher> dispatcher,
      SecurityProtocol protocol,
      Authentication authentication,
      TlsContexts tls)
      throws InterruptedException {
    boolean encrypted = protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
    if (encrypted != (tls != null)) {
      throw new IllegalArgumentException(
          "an SSL or SASL_SSL listener needs TLS; no other one does");
    }
    this.tls = tls;
    boolean saslListener =
        protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
    if (saslListener != (authentication != null)) {
      throw new IllegalArgumentException(
          "a SASL listener needs an authenticator; no other one does");
    }
    RequestMemoryPool memory = new RequestMemoryPool(queuedMaxRequestBytes).bindTo(meters);
    // Requests of clients that have not authenticated yet (at most 512 KiB each) come from a pool
    // of their own.
    RequestMemoryPool unauthenticated = new RequestMemoryPool(UNAUTHENTICATED_REQUEST_BYTES);
    channel =
        new ServerBootstrap()
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
                                    : Math.min(
                                        maxFrameBytes, Authentication.MAX_UNAUTHENTICATED_BYTES);
                    java.util.function.Supplier<RequestMemoryPool> pool =
                        sasl == null
                            ? () -> memory
                            : () -> sasl.complete() ? memory : unauthenticated;
                    if (tls != null) {
                      // Each connection takes the context current now: a renewed certificate
                      // applies to new connections.
                      ch.pipeline().addLast("tls", tls.current().newHandler(ch.alloc()));
                    }
                    ch.pipeline()
                        .addLast("frameDecoder", new RequestFrameDecoder(frameLimit, pool))
                        .addLast(
                            "requestHandler",
                            new KafkaRequestHandler(dispatcher, protocol, sasl, tls));
                  }
                })
            .bind(host, port)
            .sync()
            .channel();
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    if (tls != null) {
      tls.close();
    }
    channel.close().syncUninterruptibly();
    boss.shutdownGracefully();
    workers.shutdownGracefully();
  }
}
