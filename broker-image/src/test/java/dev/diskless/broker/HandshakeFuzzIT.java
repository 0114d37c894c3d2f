package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.config.ListenerConfig;
import dev.diskless.broker.playground.LocalCertificates;
import dev.diskless.broker.playground.LocalCertificates.Issued;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.security.TlsConfig;
import dev.diskless.broker.testing.SaslClients;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.testing.RawKafkaClient;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.SaslAuthenticateRequest;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeRequest;
import org.apache.kafka.common.requests.SaslHandshakeResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random and mutated handshakes against a broker with a SASL_PLAINTEXT and an SSL listener: TLS
 * ClientHellos with flipped bytes, truncated or replaced by noise, and SASL exchanges with random
 * mechanisms, tokens and frames. None may authenticate, each may close only its own connection, and
 * well-behaved clients are served throughout. The seed is printed; {@code -Dfuzz.seed=N} replays a
 * run. SASL attempts come from many loopback addresses so that the slow-down of repeated failures
 * from one address does not dominate the run.
 */
class HandshakeFuzzIT {

  private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());

  @TempDir Path dir;
  private Broker broker;
  private Path caFile;

  @BeforeEach
  void start() throws Exception {
    System.out.println("HandshakeFuzzIT seed " + SEED);
    Issued ca = LocalCertificates.ca("fuzz-ca");
    Issued server = LocalCertificates.server(ca);
    Path certificate =
        LocalCertificates.writeCertificates(
            dir.resolve("tls.crt"), server.certificate(), ca.certificate());
    Path key = LocalCertificates.writePkcs1Key(dir.resolve("tls.key"), server.keys().getPrivate());
    caFile = LocalCertificates.writeCertificates(dir.resolve("ca.crt"), ca.certificate());
    SecurityConfig sasl =
        SecurityConfig.sasl("SCRAM-SHA-512", "PLAIN").withBootstrapUser("admin", "admin-pw");
    SecurityConfig tls = SecurityConfig.PLAINTEXT.withTls(TlsConfig.server(certificate, key));
    broker =
        Broker.start(
            BrokerConfig.local("fuzz", TestStorage.fresh())
                .withListeners(
                    List.of(
                        new ListenerConfig("SASL", "127.0.0.1", 0, "127.0.0.1", 0, sasl),
                        new ListenerConfig("TLS", "127.0.0.1", 0, "127.0.0.1", 0, tls)),
                    "SASL"),
            StorageMetrics.noExport());
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void garbledTlsHandshakesCloseOnlyTheirConnections() throws Exception {
    Random random = new Random(SEED);
    int port = broker.port("TLS");
    byte[] hello = clientHello(port);
    for (int i = 0; i < 90; i++) {
      byte[] bytes =
          switch (i % 3) {
            case 0 -> noise(random, 1 + random.nextInt(2_000));
            case 1 -> flipped(random, hello, 1 + random.nextInt(8));
            default -> {
              byte[] cut = Arrays.copyOf(hello, 1 + random.nextInt(hello.length));
              yield concat(cut, noise(random, random.nextInt(300)));
            }
          };
      byte[] answer = exchange(new InetSocketAddress("127.0.0.1", 0), port, bytes, 250);
      // A TLS alert or nothing: never a Kafka response (a frame would start with a size).
      assertThat(answer.length == 0 || answer[0] == 0x15 || answer[0] == 0x16)
          .as("answer to garbled TLS #%d: %s", i, Arrays.toString(answer))
          .isTrue();
      if (i % 30 == 29) {
        assertTlsClientServed(port);
      }
    }
    assertTlsClientServed(port);
    assertSaslClientServed();
  }

  @Test
  void garbledSaslExchangesNeverAuthenticate() throws Exception {
    Random random = new Random(SEED);
    int port = broker.port("SASL");
    for (int i = 0; i < 120; i++) {
      // At most a few failures per address: below the slow-down's threshold of 20.
      InetSocketAddress from = new InetSocketAddress("127.0.0." + (2 + i % 100), 0);
      try (Socket s = new Socket()) {
        s.bind(from);
        s.connect(new InetSocketAddress("127.0.0.1", port));
        s.setSoTimeout(5_000);
        switch (i % 4) {
          case 0 -> {
            String mechanism =
                new String(noise(random, random.nextInt(40)), StandardCharsets.UTF_8);
            SaslHandshakeResponse r = handshake(s, mechanism);
            if (r != null) {
              assertThat(Errors.forCode(r.data().errorCode()))
                  .as("mechanism %s", mechanism)
                  .isIn(Errors.UNSUPPORTED_SASL_MECHANISM, Errors.NONE);
            }
          }
          case 1, 2 -> {
            String mechanism = i % 4 == 1 ? "PLAIN" : "SCRAM-SHA-512";
            SaslHandshakeResponse r = handshake(s, mechanism);
            assertThat(r).isNotNull();
            byte[] token =
                i % 8 < 4
                    ? noise(random, random.nextInt(600))
                    : flipped(
                        random,
                        (mechanism.equals("PLAIN")
                                ? "\u0000admin\u0000admin-pw"
                                : "n,,n=admin,r=" + Long.toHexString(random.nextLong()))
                            .getBytes(StandardCharsets.UTF_8),
                        1 + random.nextInt(3));
            SaslAuthenticateResponse a = authenticate(s, token);
            if (a != null && a.data().errorCode() == Errors.NONE.code()) {
              // A SCRAM first message that survived the flips gets a challenge; the exchange
              // still cannot end without the password.
              assertThat(mechanism).isEqualTo("SCRAM-SHA-512");
              SaslAuthenticateResponse last = authenticate(s, noise(random, 100));
              assertThat(last == null || last.data().errorCode() != Errors.NONE.code())
                  .as("a random SCRAM final message authenticated")
                  .isTrue();
            }
          }
          default -> {
            // A frame of noise, or a frame whose size is noise.
            byte[] body = noise(random, random.nextInt(200));
            ByteBuffer frame =
                ByteBuffer.allocate(4 + body.length)
                    .putInt(random.nextBoolean() ? body.length : random.nextInt())
                    .put(body);
            s.getOutputStream().write(frame.array());
            drain(s, 500);
          }
        }
      }
    }
    assertSaslClientServed();
    assertTlsClientServed(broker.port("TLS"));
  }

  private SaslHandshakeResponse handshake(Socket s, String mechanism) throws IOException {
    return (SaslHandshakeResponse)
        sendOrClosed(
            s,
            1,
            new SaslHandshakeRequest.Builder(new SaslHandshakeRequestData().setMechanism(mechanism))
                .build((short) 1));
  }

  private SaslAuthenticateResponse authenticate(Socket s, byte[] token) throws IOException {
    return (SaslAuthenticateResponse)
        sendOrClosed(
            s,
            2,
            new SaslAuthenticateRequest.Builder(
                    new SaslAuthenticateRequestData().setAuthBytes(token))
                .build((short) 2));
  }

  /** The response, or null when the broker closed the connection instead. */
  private static AbstractResponse sendOrClosed(
      Socket s, int id, org.apache.kafka.common.requests.AbstractRequest request)
      throws IOException {
    try {
      return RawKafkaClient.send(s, id, request);
    } catch (EOFException | SocketException e) {
      return null;
    }
  }

  private void assertSaslClientServed() throws Exception {
    try (Admin admin =
        Admin.create(
            SaslClients.config(
                "127.0.0.1:" + broker.port("SASL"), "SCRAM-SHA-512", "admin", "admin-pw"))) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
  }

  private void assertTlsClientServed(int port) throws Exception {
    try (Admin admin =
        Admin.create(
            Map.of(
                "bootstrap.servers",
                "127.0.0.1:" + port,
                "security.protocol",
                "SSL",
                "ssl.truststore.type",
                "PEM",
                "ssl.truststore.location",
                caFile.toString()))) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
  }

  /** What a JDK client sends first: its ClientHello record. */
  private static byte[] clientHello(int port) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = context.createSSLEngine("localhost", port);
    engine.setUseClientMode(true);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return bytes;
  }

  /** Sends {@code bytes} and returns what came back before the close or the timeout. */
  private static byte[] exchange(InetSocketAddress from, int port, byte[] bytes, int timeoutMs)
      throws IOException {
    try (Socket s = new Socket()) {
      s.bind(from);
      s.connect(new InetSocketAddress("127.0.0.1", port));
      s.setSoTimeout(timeoutMs);
      try {
        s.getOutputStream().write(bytes);
      } catch (SocketException e) {
        return new byte[0];
      }
      return drain(s, timeoutMs);
    }
  }

  private static byte[] drain(Socket s, int timeoutMs) throws IOException {
    s.setSoTimeout(timeoutMs);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    InputStream in = s.getInputStream();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = in.read(buffer)) != -1; ) {
        out.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException | SocketException e) {
      // Waiting for more, or reset: either way this connection is done.
    }
    return out.toByteArray();
  }

  private static byte[] noise(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static byte[] flipped(Random random, byte[] original, int flips) {
    byte[] bytes = original.clone();
    for (int i = 0; i < flips; i++) {
      bytes[random.nextInt(bytes.length)] ^= (byte) (1 + random.nextInt(255));
    }
    return bytes;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
