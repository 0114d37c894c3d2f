package dev.diskless.storage.objectstore;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * The first attempt of a PUT or a ranged GET, sent over a kept-alive HTTP/1.1 connection and signed
 * with AWS Signature Version 4 (unsigned payload) without the S3 client's request pipeline. That
 * pipeline (interceptors, endpoint and auth-scheme resolution, marshalling, its HTTP clients' own
 * layers) cost the broker several milliseconds of CPU per request, most of it code that a few dozen
 * requests a second never make hot: a third of the broker's CPU in a catch-up read. Only the plain
 * answer counts — {@code 200} for a PUT, {@code 206} with exactly the range for a GET; any other
 * answer or I/O failure hands the request to the S3 client, whose retries, error parsing and
 * lost-response check ({@code If-None-Match}) then apply as before.
 */
final class DirectRequests implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DirectRequests.class);

  private static final byte[] CRLF_CRLF = {'\r', '\n', '\r', '\n'};
  private static final String UNSIGNED = "UNSIGNED-PAYLOAD";
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);

  /**
   * Kept-alive connections idle longer than this are not reused: the server may have closed them.
   */
  private static final long IDLE_NANOS = 4_000_000_000L;

  /**
   * How long the path stays off after the store refused a request of it: a store that does not
   * accept these requests (a signing variant it does not take) must not cost every request a
   * refused attempt; the S3 client's answer shows in its own errors meanwhile.
   */
  private static final long PAUSE_NANOS = 60_000_000_000L;

  private final String scheme;
  private final String host;
  private final int port;
  private final String hostHeader;
  private final String pathPrefix;
  private final String region;
  private final Supplier<AwsCredentialsIdentity> credentials;
  private final int timeoutMillis;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
  private final ScheduledThreadPoolExecutor timer =
      new ScheduledThreadPoolExecutor(
          1, Thread.ofPlatform().name("direct-requests-timer").daemon().factory());
  private final Object signing = new Object();
  // Guarded by signing.
  private final Mac mac;
  private final MessageDigest sha256;
  private volatile long pausedUntilNanos = System.nanoTime();
  private String keyDate;
  private String keySecret;
  private byte[] signingKey;

  private record Connection(Socket socket, InputStream in, OutputStream out, long idleSince) {}

  private DirectRequests(
      URI endpoint,
      String bucket,
      boolean pathStyle,
      String region,
      Supplier<AwsCredentialsIdentity> credentials,
      int timeoutMillis)
      throws GeneralSecurityException {
    this.scheme = endpoint.getScheme().toLowerCase(Locale.ROOT);
    this.port = endpoint.getPort() != -1 ? endpoint.getPort() : scheme.equals("https") ? 443 : 80;
    this.host = pathStyle ? endpoint.getHost() : bucket + "." + endpoint.getHost();
    boolean defaultPort = endpoint.getPort() == -1;
    this.hostHeader = defaultPort ? host : host + ":" + port;
    String base = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
    if (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    this.pathPrefix =
        pathStyle ? base + "/" + SdkHttpUtils.urlEncodeIgnoreSlashes(bucket) + "/" : base + "/";
    this.region = region;
    this.credentials = credentials;
    this.timeoutMillis = timeoutMillis;
    this.mac = Mac.getInstance("HmacSHA256");
    this.sha256 = MessageDigest.getInstance("SHA-256");
    // A watchdog per PUT, nearly always cancelled: do not keep the cancelled ones queued.
    timer.setRemoveOnCancelPolicy(true);
  }

  /** The direct path for this store, if its endpoint is one this class can address. */
  static Optional<DirectRequests> forConfig(
      ObjectStoreConfig config, Supplier<AwsCredentialsIdentity> credentials) {
    if (config.endpoint().isEmpty()) {
      // AWS's own endpoints are resolved by the S3 client's rules (regions, dual-stack, FIPS).
      return Optional.empty();
    }
    URI endpoint = config.endpoint().get();
    String scheme =
        endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new DirectRequests(
              endpoint,
              config.bucket(),
              config.pathStyle(),
              config.region(),
              credentials,
              Math.toIntExact(config.attemptTimeout().toMillis())));
    } catch (GeneralSecurityException e) {
      return Optional.empty();
    }
  }

  /** Whether requests should try this path now (it is paused for a while after a refusal). */
  boolean available() {
    return System.nanoTime() - pausedUntilNanos >= 0;
  }

  /**
   * Sends the PUT; {@code true} when the store answered 200. Blocks: call it on a virtual thread.
   */
  boolean put(String key, ByteBuffer body, boolean ifNoneMatch) {
    Exchange x = null;
    try {
      x = new Exchange(connection());
      Connection c = x.connection();
      String extra =
          "\r\nContent-Length: " + body.remaining() + (ifNoneMatch ? "\r\nIf-None-Match: *" : "");
      c.out().write(head("PUT", key, extra));
      if (body.hasArray()) {
        c.out().write(body.array(), body.arrayOffset() + body.position(), body.remaining());
      } else {
        byte[] copy = new byte[body.remaining()];
        body.duplicate().get(copy);
        c.out().write(copy);
      }
      c.out().flush();
      Head response = readHead(c);
      x.end(response.reusable() && skipBody(c, response));
      // 412: the key exists (a lost response's object, or another's), which the S3 client's
      // check answers; any other status may be the store refusing this path.
      if (response.status() != 200 && response.status() != 412 && response.status() > 0) {
        pause("PUT", key, response.status());
      }
      return response.status() == 200;
    } catch (IOException | RuntimeException e) {
      if (x != null) {
        x.end(false);
      }
      return false;
    }
  }

  /** An HTTP Range header's value for {@code length} bytes from {@code position}. */
  static String range(long position, int length) {
    return "bytes=" + position + "-" + (position + length - 1);
  }

  /**
   * Reads {@code length} bytes of {@code key} from {@code position} into one array of that size;
   * empty when the store answered anything but a {@code 206} of exactly that range, or the
   * connection failed (the caller then reads through the S3 client). Blocks: call it on a virtual
   * thread.
   */
  Optional<ByteBuffer> get(String key, long position, int length) {
    Exchange x = null;
    try {
      x = new Exchange(connection());
      Connection c = x.connection();
      c.out().write(head("GET", key, "\r\nRange: " + range(position, length)));
      c.out().flush();
      Head response = readHead(c);
      if (response.status() != 206
          || response.length() != length
          || !response.rangeStartsAt(position)) {
        x.end(response.reusable() && skipBody(c, response));
        // 404 and 416 answer the request (the S3 client reports them); 5xx is the store's own
        // trouble, which its retries meet. Anything else — a refusal, a whole object for a range,
        // a 206 of other bytes — means this path does not work with this store.
        int status = response.status();
        if (status > 0 && status != 404 && status != 416 && status < 500) {
          pause("GET", key, status);
        }
        return Optional.empty();
      }
      byte[] body = new byte[length];
      int read = response.buffered(body);
      while (read < length) {
        int n = c.in().read(body, read, length - read);
        if (n < 0) {
          x.end(false);
          return Optional.empty();
        }
        read += n;
      }
      x.end(response.reusable());
      return Optional.of(ByteBuffer.wrap(body));
    } catch (IOException | RuntimeException e) {
      if (x != null) {
        x.end(false);
      }
      return Optional.empty();
    }
  }

  /** One request on a connection, with the watchdog that ends it at the attempt timeout. */
  private final class Exchange {
    private final Connection connection;
    private final ScheduledFuture<?> watchdog;
    private boolean ended;

    Exchange(Connection connection) {
      this.connection = connection;
      // A socket read times out by itself, a write does not: a store that stops reading would
      // hold this thread and the request's bytes. Closing the socket ends either.
      Socket socket = connection.socket();
      this.watchdog =
          timer.schedule(() -> closeQuietly(socket), timeoutMillis, TimeUnit.MILLISECONDS);
    }

    Connection connection() {
      return connection;
    }

    /**
     * Keeps the connection for the next request when it may carry one and the watchdog did not
     * fire; closes it otherwise. Only the first call counts: the connection may be another
     * request's by the second.
     */
    void end(boolean reusable) {
      if (ended) {
        return;
      }
      ended = true;
      if (watchdog.cancel(false) && reusable) {
        idle.addFirst(
            new Connection(
                connection.socket(), connection.in(), connection.out(), System.nanoTime()));
      } else {
        closeQuietly(connection.socket());
      }
    }
  }

  private void pause(String method, String key, int status) {
    pausedUntilNanos = System.nanoTime() + PAUSE_NANOS;
    LOG.warn(
        "object_key={} the store answered a direct {} with HTTP {}; requests go through the S3"
            + " client alone for {} s",
        key,
        method,
        status,
        PAUSE_NANOS / 1_000_000_000L);
  }

  private Connection connection() throws IOException {
    long now = System.nanoTime();
    // The least recently used connections sit at the tail: drop those the server may have closed.
    Connection c;
    while ((c = idle.peekLast()) != null && now - c.idleSince() >= IDLE_NANOS) {
      if (idle.removeLastOccurrence(c)) {
        closeQuietly(c.socket());
      }
    }
    while ((c = idle.pollFirst()) != null) {
      if (now - c.idleSince() < IDLE_NANOS && !c.socket().isClosed()) {
        return c;
      }
      closeQuietly(c.socket());
    }
    Socket socket;
    if (scheme.equals("https")) {
      SSLSocket ssl = (SSLSocket) SSLSocketFactory.getDefault().createSocket();
      ssl.setSoTimeout(timeoutMillis);
      ssl.connect(new InetSocketAddress(host, port), timeoutMillis);
      SSLParameters params = ssl.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(params);
      ssl.startHandshake();
      socket = ssl;
    } else {
      socket = new Socket();
      socket.connect(new InetSocketAddress(host, port), timeoutMillis);
    }
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(timeoutMillis);
    return new Connection(socket, socket.getInputStream(), socket.getOutputStream(), now);
  }

  /**
   * A response's head: its status, Content-Length (-1 when absent or unusable), Content-Range,
   * whether its connection may carry the next request, and the body bytes read with the head
   * ({@code buf} from {@code bodyStart} to {@code end}).
   */
  private record Head(
      int status,
      long length,
      String contentRange,
      boolean reusable,
      byte[] buf,
      int bodyStart,
      int end) {

    /** A head that could not be read or parsed: nothing of it can be used. */
    static final Head UNREADABLE = new Head(-1, -1, null, false, new byte[0], 0, 0);

    /** Copies the body bytes read with the head into {@code body}; how many. */
    int buffered(byte[] body) {
      int n = Math.min(end - bodyStart, body.length);
      System.arraycopy(buf, bodyStart, body, 0, n);
      return n;
    }

    /** Whether the Content-Range ({@code bytes FIRST-LAST/SIZE}) starts at {@code position}. */
    boolean rangeStartsAt(long position) {
      return contentRange != null && contentRange.startsWith("bytes " + position + "-");
    }
  }

  /** Reads the status line and headers, and whatever part of the body came with them. */
  private static Head readHead(Connection c) throws IOException {
    byte[] buf = new byte[4096];
    int n = 0;
    int end = -1;
    while (end < 0) {
      if (n == buf.length) {
        return Head.UNREADABLE;
      }
      int r = c.in().read(buf, n, buf.length - n);
      if (r < 0) {
        return Head.UNREADABLE;
      }
      n += r;
      end = indexOf(buf, n, CRLF_CRLF);
    }
    String head = new String(buf, 0, end, StandardCharsets.ISO_8859_1);
    int lineEnd = head.indexOf("\r\n");
    String statusLine = lineEnd < 0 ? head : head.substring(0, lineEnd);
    // "HTTP/1.1 200 OK": the code is the second token.
    String[] parts = statusLine.split(" ", 3);
    int status = -1;
    if (parts.length >= 2 && parts[0].startsWith("HTTP/1.")) {
      try {
        status = Integer.parseInt(parts[1]);
      } catch (NumberFormatException malformed) {
        return Head.UNREADABLE;
      }
    }
    long length = -1;
    String contentRange = null;
    boolean reusable = parts[0].equals("HTTP/1.1");
    if (lineEnd >= 0) {
      for (String line : head.substring(lineEnd + 2).split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).trim();
        if (name.equals("content-length")) {
          try {
            length = Long.parseLong(value);
          } catch (NumberFormatException malformed) {
            reusable = false;
          }
        } else if (name.equals("content-range")) {
          contentRange = value;
        } else if (name.equals("connection") && value.equalsIgnoreCase("close")) {
          reusable = false;
        }
      }
    }
    int bodyStart = end + CRLF_CRLF.length;
    if (length < 0 || n - bodyStart > length) {
      // A body we cannot delimit (chunked, or until close): the connection is not reused.
      reusable = false;
    }
    return new Head(status, length, contentRange, reusable, buf, bodyStart, n);
  }

  /**
   * Reads and drops the rest of a body of known length (a PUT's answer, an error's document); false
   * when the connection cannot carry another request after it.
   */
  private static boolean skipBody(Connection c, Head head) throws IOException {
    if (head.length() < 0) {
      return false;
    }
    long left = head.length() - (head.end() - head.bodyStart());
    if (left > 1 << 20) {
      // Cheaper to open a new connection than to read a large body nobody wants.
      return false;
    }
    byte[] sink = left > 0 ? new byte[(int) Math.min(left, 8192)] : null;
    while (left > 0) {
      int r = c.in().read(sink, 0, (int) Math.min(left, sink.length));
      if (r < 0) {
        return false;
      }
      left -= r;
    }
    return true;
  }

  private static int indexOf(byte[] buf, int n, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= n; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (buf[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * The request line and headers, signed, then {@code extra} (unsigned headers, each after CRLF).
   */
  private byte[] head(String method, String key, String extra) {
    AwsCredentialsIdentity identity = credentials.get();
    String token =
        identity instanceof AwsSessionCredentialsIdentity session ? session.sessionToken() : null;
    String amzDate = AMZ_DATE.format(LocalDateTime.now(ZoneOffset.UTC));
    String date = amzDate.substring(0, 8);
    String path = pathPrefix + SdkHttpUtils.urlEncodeIgnoreSlashes(key);
    StringBuilder canonicalHeaders =
        new StringBuilder()
            .append("host:")
            .append(hostHeader)
            .append('\n')
            .append("x-amz-content-sha256:")
            .append(UNSIGNED)
            .append('\n')
            .append("x-amz-date:")
            .append(amzDate)
            .append('\n');
    String signedHeaders = "host;x-amz-content-sha256;x-amz-date";
    if (token != null) {
      canonicalHeaders.append("x-amz-security-token:").append(token).append('\n');
      signedHeaders += ";x-amz-security-token";
    }
    String canonicalRequest =
        method + "\n" + path + "\n\n" + canonicalHeaders + "\n" + signedHeaders + "\n" + UNSIGNED;
    String scope = date + "/" + region + "/s3/aws4_request";
    String signature;
    synchronized (signing) {
      String toSign =
          "AWS4-HMAC-SHA256\n"
              + amzDate
              + "\n"
              + scope
              + "\n"
              + HexFormat.of()
                  .formatHex(sha256.digest(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
      signature = HexFormat.of().formatHex(hmac(key(identity.secretAccessKey(), date), toSign));
    }
    StringBuilder h =
        new StringBuilder(512)
            .append(method)
            .append(' ')
            .append(path)
            .append(" HTTP/1.1\r\nHost: ")
            .append(hostHeader)
            .append("\r\nx-amz-content-sha256: ")
            .append(UNSIGNED)
            .append("\r\nx-amz-date: ")
            .append(amzDate);
    if (token != null) {
      h.append("\r\nx-amz-security-token: ").append(token);
    }
    h.append("\r\nAuthorization: AWS4-HMAC-SHA256 Credential=")
        .append(identity.accessKeyId())
        .append('/')
        .append(scope)
        .append(", SignedHeaders=")
        .append(signedHeaders)
        .append(", Signature=")
        .append(signature)
        .append(extra)
        .append("\r\n\r\n");
    return h.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The day's signing key, derived once per day and secret. Guarded by signing. */
  private byte[] key(String secret, String date) {
    if (!date.equals(keyDate) || !secret.equals(keySecret)) {
      byte[] k = ("AWS4" + secret).getBytes(StandardCharsets.UTF_8);
      k = hmac(k, date);
      k = hmac(k, region);
      k = hmac(k, "s3");
      signingKey = hmac(k, "aws4_request");
      keyDate = date;
      keySecret = secret;
    }
    return signingKey;
  }

  private byte[] hmac(byte[] key, String data) {
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 rejected its key", e);
    }
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Nothing to do: the connection is dropped either way.
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    Connection c;
    while ((c = idle.pollFirst()) != null) {
      closeQuietly(c.socket());
    }
  }
}
