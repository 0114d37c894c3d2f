package dev.diskless.broker.network;

import dev.diskless.broker.handler.RequestDispatcher;
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

/**
 * The Kafka listener: a Netty server whose pipeline is a length-prefixed frame decoder (frames over
 * the maximum size close the connection; every request's bytes come out of one broker-wide {@link
 * RequestMemoryPool}, and a connection whose next request does not fit is not read) followed by
 * {@link KafkaRequestHandler}. Event loops never block: handlers return futures completed by
 * storage threads.
 */
public final class KafkaServer implements AutoCloseable {

  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
  private final Channel channel;

  public KafkaServer(
      String host,
      int port,
      int maxFrameBytes,
      long queuedMaxRequestBytes,
      MeterRegistry meters,
      java.util.function.Supplier<RequestDispatcher> dispatcher)
      throws InterruptedException {
    RequestMemoryPool memory = new RequestMemoryPool(queuedMaxRequestBytes).bindTo(meters);
    channel =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast("frameDecoder", new RequestFrameDecoder(maxFrameBytes, memory))
                        .addLast("requestHandler", new KafkaRequestHandler(dispatcher));
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
    channel.close().syncUninterruptibly();
    boss.shutdownGracefully();
    workers.shutdownGracefully();
  }
}
