package dev.diskless.storage.testing.fault;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;

/**
 * An HTTP proxy between the engine and S3Proxy that injects faults chosen per request by a {@link
 * FaultPlan}: S3 error statuses, latency, connection resets, responses dropped after the store
 * applied the request, and truncated bodies. Requests are forwarded byte-for-byte with their
 * original Host header, so AWS signatures stay valid.
 */
public final class FaultProxy implements AutoCloseable {

  /** Chooses the fault for a request from its method and path. */
  @FunctionalInterface
  public interface FaultPlan extends BiFunction<String, String, Fault> {}

  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "content-length",
          "expect",
          "upgrade",
          "transfer-encoding",
          "keep-alive",
          "te");

  static {
    // The AWS signature covers Host: forward the client's, which the JDK client refuses unless
    // allowed. The JDK reads this once, at its first HttpClient: the surefire argLine sets it at
    // JVM start, this covers other runners.
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
  }

  private final URI target;
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final ExecutorService forwarders = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final Channel server;
  private volatile FaultPlan plan = (m, p) -> Fault.NONE;
  private final Map<String, AtomicLong> injected = new ConcurrentHashMap<>();

  public FaultProxy(URI target) throws InterruptedException {
    this.target = target;
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(256 << 20))
                        .addLast(new Handler());
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort());
  }

  public void plan(FaultPlan newPlan) {
    this.plan = newPlan;
  }

  public void heal() {
    this.plan = (m, p) -> Fault.NONE;
  }

  /** How many faults of each kind were injected so far. */
  public Map<String, Long> injected() {
    Map<String, Long> out = new java.util.TreeMap<>();
    injected.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String method = request.method().name();
      String uri = request.uri();
      Fault fault = plan.apply(method, uri);
      if (!(fault instanceof Fault.None)) {
        injected
            .computeIfAbsent(fault.getClass().getSimpleName(), k -> new AtomicLong())
            .incrementAndGet();
      }
      switch (fault) {
        case Fault.Status s -> {
          respondError(ctx, s);
          return;
        }
        case Fault.Reset r -> {
          reset(ctx);
          return;
        }
        default -> {}
      }
      byte[] body = new byte[request.content().readableBytes()];
      request.content().readBytes(body);
      HttpRequest.Builder forward =
          HttpRequest.newBuilder(URI.create(target.toString() + uri))
              .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
      for (Map.Entry<String, String> h : request.headers()) {
        if (!HOP_BY_HOP.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))) {
          forward.header(h.getKey(), h.getValue());
        }
      }
      forwarders.execute(
          () -> {
            try {
              if (fault instanceof Fault.Delay d) {
                Thread.sleep(d.delay());
              }
              HttpResponse<byte[]> response =
                  client.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
              ctx.executor().execute(() -> reply(ctx, fault, response));
            } catch (Exception e) {
              ctx.executor().execute(() -> reset(ctx));
            }
          });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static void reply(ChannelHandlerContext ctx, Fault fault, HttpResponse<byte[]> response) {
    if (fault instanceof Fault.DropResponse) {
      reset(ctx);
      return;
    }
    HttpResponseStatus status = HttpResponseStatus.valueOf(response.statusCode());
    byte[] body = response.body();
    if (fault instanceof Fault.LongerBody) {
      byte[] twice = java.util.Arrays.copyOf(body, 2 * body.length);
      System.arraycopy(body, 0, twice, body.length, body.length);
      body = twice;
    }
    if (fault instanceof Fault.TruncateBody && body.length > 1) {
      DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
      copyHeaders(response, head.headers());
      head.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
      ctx.write(head);
      ByteBuf half = Unpooled.wrappedBuffer(body, 0, body.length / 2);
      ctx.writeAndFlush(half).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    FullHttpResponse full =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    copyHeaders(response, full.headers());
    // A HEAD answer has no body but the object's length: passing 0 on made every stored object
    // look empty, so a PUT whose response was dropped could never be verified as ours.
    full.headers()
        .set(
            HttpHeaderNames.CONTENT_LENGTH,
            response.request().method().equals("HEAD")
                ? response.headers().firstValue("content-length").orElse("0")
                : String.valueOf(body.length));
    ctx.writeAndFlush(full);
  }

  private static void copyHeaders(
      HttpResponse<byte[]> response, io.netty.handler.codec.http.HttpHeaders out) {
    for (Map.Entry<String, List<String>> h : response.headers().map().entrySet()) {
      if (h.getKey().startsWith(":")
          || HOP_BY_HOP.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))) {
        continue;
      }
      out.add(h.getKey(), h.getValue());
    }
  }

  private static void respondError(ChannelHandlerContext ctx, Fault.Status s) {
    String xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
            + s.s3Code()
            + "</Code><Message>injected "
            + s.s3Code()
            + "</Message></Error>";
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(s.code()),
            Unpooled.copiedBuffer(xml, StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/xml");
    response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    ctx.writeAndFlush(response);
  }

  private static void reset(ChannelHandlerContext ctx) {
    // SO_LINGER 0 makes close send a TCP RST, as a crashed peer or a cut network does.
    ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
    ctx.close();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully();
    forwarders.close();
  }
}
