package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.testing.RawKafkaClient;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.SaslAuthenticateRequest;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeRequest;
import org.apache.kafka.common.requests.SaslHandshakeResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SASL_PLAINTEXT as Kafka clients meet it: SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN against
 * credentials kept in PostgreSQL (a bootstrap user from the settings, others made with Admin),
 * Kafka's errors and messages for a wrong password, an unknown mechanism and a request before
 * authentication, and one bad connection never disturbing the others.
 */
class SaslIT {

  private StorageConfig storage;
  private StorageMetrics metrics;
  private Broker broker;

  @BeforeEach
  void start() throws Exception {
    storage = TestStorage.fresh();
    metrics = StorageMetrics.noExport();
    broker = Broker.start(config("admin-secret"), metrics);
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  private BrokerConfig config(String adminPassword) {
    return BrokerConfig.local("sasl", storage)
        .withSecurity(
            SecurityConfig.sasl("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
                .withBootstrapUser("admin", adminPassword));
  }

  @Test
  void usersAuthenticateWithEveryMechanismAndAWrongPasswordIsRefused() throws Exception {
    try (Admin admin = Admin.create(client("SCRAM-SHA-512", "admin", "admin-secret"))) {
      admin.createTopics(List.of(new NewTopic("secured", 2, (short) 1))).all().get();
      admin
          .alterUserScramCredentials(
              List.of(
                  new UserScramCredentialUpsertion(
                      "alice",
                      new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096),
                      "a-pw")))
          .all()
          .get();
    }
    Map<String, Object> producerConfig = client("SCRAM-SHA-256", "alice", "a-pw");
    producerConfig.put("key.serializer", StringSerializer.class.getName());
    producerConfig.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig)) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>("secured", "k" + i, "v" + i)).get();
      }
    }
    // PLAIN is checked against the same stored SCRAM credential.
    Map<String, Object> consumerConfig = client("PLAIN", "alice", "a-pw");
    consumerConfig.put("group.id", "secured-readers");
    consumerConfig.put("auto.offset.reset", "earliest");
    consumerConfig.put("key.deserializer", StringDeserializer.class.getName());
    consumerConfig.put("value.deserializer", StringDeserializer.class.getName());
    List<String> read = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig)) {
      consumer.subscribe(List.of("secured"));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read.size() < 10 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          read.add(r.value());
        }
      }
    }
    assertThat(read).hasSize(10).contains("v0", "v9");

    assertThat(refusal("SCRAM-SHA-256", "alice", "wrong"))
        .isInstanceOf(SaslAuthenticationException.class)
        .hasMessage(
            "Authentication failed during authentication due to invalid credentials with SASL"
                + " mechanism SCRAM-SHA-256");
    assertThat(refusal("PLAIN", "alice", "wrong"))
        .isInstanceOf(SaslAuthenticationException.class)
        .hasMessage("Authentication failed: Invalid username or password");
    // alice has no SHA-512 credential; nobody has a credential for bob.
    assertThat(refusal("SCRAM-SHA-512", "alice", "a-pw"))
        .isInstanceOf(SaslAuthenticationException.class);
    assertThat(refusal("SCRAM-SHA-512", "bob", "b-pw"))
        .isInstanceOf(SaslAuthenticationException.class);

    // A deleted credential stops the next login at once.
    try (Admin admin = Admin.create(client("SCRAM-SHA-512", "admin", "admin-secret"))) {
      admin
          .alterUserScramCredentials(
              List.of(new UserScramCredentialDeletion("alice", ScramMechanism.SCRAM_SHA_256)))
          .all()
          .get();
    }
    assertThat(refusal("SCRAM-SHA-256", "alice", "a-pw"))
        .isInstanceOf(SaslAuthenticationException.class);
    assertThat(authentications("success")).isGreaterThanOrEqualTo(4);
    assertThat(authentications("failure")).isGreaterThanOrEqualTo(5);
  }

  @Test
  void theBootstrapUserFollowsItsPassword() throws Exception {
    broker.close();
    broker = Broker.start(config("rotated"), metrics);
    assertThat(refusal("SCRAM-SHA-512", "admin", "admin-secret"))
        .isInstanceOf(SaslAuthenticationException.class);
    try (Admin admin = Admin.create(client("SCRAM-SHA-256", "admin", "rotated"))) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
  }

  @Test
  void badConnectionsAreClosedAndTheRestKeepBeingServed() throws Exception {
    int port = broker.port();
    ApiVersionsResponse versions =
        (ApiVersionsResponse)
            RawKafkaClient.send(port, new ApiVersionsRequest.Builder().build((short) 3));
    ApiVersion handshake = versions.apiVersion(ApiKeys.SASL_HANDSHAKE.id);
    assertThat(handshake.minVersion()).isEqualTo((short) 0);
    assertThat(handshake.maxVersion()).isEqualTo((short) 1);
    assertThat(versions.apiVersion(ApiKeys.SASL_AUTHENTICATE.id).maxVersion()).isEqualTo((short) 2);

    // Any other request before authentication: closed, unanswered.
    try (Socket s = new Socket("127.0.0.1", port)) {
      assertThatThrownBy(
              () ->
                  RawKafkaClient.send(
                      s, 1, new MetadataRequest(new MetadataRequestData(), (short) 12)))
          .isInstanceOf(EOFException.class);
    }
    // A mechanism not enabled: Kafka's error with the enabled ones, then closed.
    try (Socket s = new Socket("127.0.0.1", port)) {
      SaslHandshakeResponse refused = handshake(s, 1, "OAUTHBEARER");
      assertThat(Errors.forCode(refused.data().errorCode()))
          .isEqualTo(Errors.UNSUPPORTED_SASL_MECHANISM);
      assertThat(refused.data().mechanisms())
          .containsExactly("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    // A garbled SCRAM token: Kafka's fixed message, then closed.
    try (Socket s = new Socket("127.0.0.1", port)) {
      SaslHandshakeResponse ok = handshake(s, 1, "SCRAM-SHA-512");
      assertThat(ok.data().errorCode()).isZero();
      SaslAuthenticateResponse garbled =
          authenticate(s, 2, "\u0000not scram".getBytes(StandardCharsets.UTF_8));
      assertThat(Errors.forCode(garbled.data().errorCode()))
          .isEqualTo(Errors.SASL_AUTHENTICATION_FAILED);
      assertThat(garbled.data().errorMessage())
          .isEqualTo(
              "Authentication failed during authentication due to invalid credentials with SASL"
                  + " mechanism SCRAM-SHA-512");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    // An oversized request before authentication (over 512 KiB): closed.
    try (Socket s = new Socket("127.0.0.1", port)) {
      // Only the size and a little of the body: the broker decides on the size.
      s.getOutputStream().write(ByteBuffer.allocate(4 + 64).putInt(600 << 10).array());
      assertThat(readOrEnd(s)).isEqualTo(-1);
    }
    // Tokens pipelined before the first is answered: at most one is evaluated, and the
    // connection closes; an unknown mechanism's name does not become a metric.
    double failuresBefore = authentications("failure");
    try (Socket s = new Socket("127.0.0.1", port)) {
      SaslHandshakeResponse ok = handshake(s, 1, "PLAIN");
      assertThat(ok.data().errorCode()).isZero();
      java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < 50; i++) {
        burst.write(
            frame(
                new SaslAuthenticateRequest.Builder(
                        new SaslAuthenticateRequestData()
                            .setAuthBytes(
                                "\u0000admin\u0000guess".getBytes(StandardCharsets.UTF_8)))
                    .build((short) 2),
                10 + i));
      }
      s.getOutputStream().write(burst.toByteArray());
      while (readOrEnd(s) != -1) {
        // Drains whatever was answered until the broker closes.
      }
    }
    assertThat(authentications("failure") - failuresBefore).isLessThanOrEqualTo(1);
    assertThat(
            metrics
                .registry()
                .find("diskless.sasl.authentications")
                .tag("mechanism", "OAUTHBEARER")
                .counters())
        .isEmpty();
    // Meanwhile, and after, a good client is served.
    try (Admin admin = Admin.create(client("SCRAM-SHA-512", "admin", "admin-secret"))) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
  }

  @Test
  void sessionsEndAndClientsReauthenticateOnTheirConnections() throws Exception {
    broker.close();
    broker =
        Broker.start(
            BrokerConfig.local("sasl", storage)
                .withSecurity(
                    SecurityConfig.sasl("SCRAM-SHA-512", "PLAIN")
                        .withBootstrapUser("admin", "admin-secret")
                        .withMaxReauth(Duration.ofSeconds(2))),
            metrics);
    // Kafka's client re-authenticates before its session ends; its requests go on being served.
    Map<String, Object> config = client("SCRAM-SHA-512", "admin", "admin-secret");
    config.put("key.serializer", StringSerializer.class.getName());
    config.put("value.serializer", StringSerializer.class.getName());
    try (Admin admin = Admin.create(config)) {
      admin.createTopics(List.of(new NewTopic("renewed", 1, (short) 1))).all().get();
    }
    double before = authentications("reauthenticated");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
      long end = System.nanoTime() + Duration.ofSeconds(7).toNanos();
      int i = 0;
      while (System.nanoTime() < end) {
        producer.send(new ProducerRecord<>("renewed", "k", "v" + i++)).get();
        Thread.sleep(100);
      }
    }
    assertThat(authentications("reauthenticated") - before).isGreaterThanOrEqualTo(2);

    // A client that does not re-authenticate is disconnected once its session has ended.
    try (Socket s = new Socket("127.0.0.1", broker.port())) {
      SaslHandshakeResponse ok = handshake(s, 1, "PLAIN");
      assertThat(ok.data().errorCode()).isZero();
      SaslAuthenticateResponse done =
          authenticate(s, 2, "\u0000admin\u0000admin-secret".getBytes(StandardCharsets.UTF_8));
      assertThat(done.data().errorCode()).isZero();
      assertThat(done.data().sessionLifetimeMs()).isEqualTo(2000);
      assertThat(
              RawKafkaClient.send(s, 3, new MetadataRequest(new MetadataRequestData(), (short) 12))
                  .errorCounts())
          .doesNotContainKey(Errors.SASL_AUTHENTICATION_FAILED);
      // Re-authenticating with another mechanism is refused, as Kafka refuses it.
      Thread.sleep(1100);
      SaslHandshakeResponse again = handshake(s, 4, "SCRAM-SHA-512");
      assertThat(again.data().errorCode()).isZero();
      SaslAuthenticateResponse refused = authenticate(s, 5, new byte[] {1});
      assertThat(refused.data().errorMessage())
          .isEqualTo(
              "SASL mechanism 'SCRAM-SHA-512' requested by client is not supported for"
                  + " re-authentication of mechanism 'PLAIN'");
      assertThat(readOrEnd(s)).isEqualTo(-1);
    }
    try (Socket s = new Socket("127.0.0.1", broker.port())) {
      handshake(s, 1, "PLAIN");
      authenticate(s, 2, "\u0000admin\u0000admin-secret".getBytes(StandardCharsets.UTF_8));
      Thread.sleep(2300);
      assertThatThrownBy(
              () ->
                  RawKafkaClient.send(
                      s, 3, new MetadataRequest(new MetadataRequestData(), (short) 12)))
          .isInstanceOf(IOException.class);
    }
    assertThat(authentications("expired")).isPositive();
  }

  @Test
  void saslHandshakeV0TakesBareTokens() throws Exception {
    int port = broker.port();
    try (Socket s = new Socket("127.0.0.1", port)) {
      handshakeV0(s, "PLAIN");
      assertThat(rawToken(s, "\u0000admin\u0000admin-secret")).isEmpty();
      // Authenticated: any request is served now.
      assertThat(
              RawKafkaClient.send(s, 3, new MetadataRequest(new MetadataRequestData(), (short) 12))
                  .errorCounts())
          .doesNotContainKey(Errors.SASL_AUTHENTICATION_FAILED);
    }
    try (Socket s = new Socket("127.0.0.1", port)) {
      handshakeV0(s, "PLAIN");
      // v0 has no way to tell a failure: the connection is closed.
      assertThatThrownBy(() -> rawToken(s, "\u0000admin\u0000wrong"))
          .isInstanceOf(EOFException.class);
    }
  }

  private static SaslHandshakeResponse handshake(Socket s, int correlationId, String mechanism)
      throws IOException {
    return (SaslHandshakeResponse)
        RawKafkaClient.send(
            s,
            correlationId,
            new SaslHandshakeRequest.Builder(new SaslHandshakeRequestData().setMechanism(mechanism))
                .build((short) 1));
  }

  private static SaslAuthenticateResponse authenticate(Socket s, int correlationId, byte[] token)
      throws IOException {
    return (SaslAuthenticateResponse)
        RawKafkaClient.send(
            s,
            correlationId,
            new SaslAuthenticateRequest.Builder(
                    new SaslAuthenticateRequestData().setAuthBytes(token))
                .build((short) 2));
  }

  private static void handshakeV0(Socket s, String mechanism) throws IOException {
    SaslHandshakeResponse response =
        (SaslHandshakeResponse)
            RawKafkaClient.send(
                s,
                1,
                new SaslHandshakeRequest.Builder(
                        new SaslHandshakeRequestData().setMechanism(mechanism))
                    .build((short) 0));
    assertThat(response.data().errorCode()).isZero();
  }

  /** Sends a bare size-prefixed token and reads the bare reply. */
  private static byte[] rawToken(Socket s, String token) throws IOException {
    byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
    s.getOutputStream()
        .write(ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).array());
    DataInputStream in = new DataInputStream(s.getInputStream());
    byte[] reply = new byte[in.readInt()];
    in.readFully(reply);
    return reply;
  }

  /** A request as it goes on the wire: size, header, body. */
  private static byte[] frame(org.apache.kafka.common.requests.AbstractRequest request, int id) {
    ByteBuffer payload =
        request.serializeWithHeader(
            new org.apache.kafka.common.requests.RequestHeader(
                request.apiKey(), request.version(), "raw", id));
    return ByteBuffer.allocate(4 + payload.remaining())
        .putInt(payload.remaining())
        .put(payload)
        .array();
  }

  private static int readOrEnd(Socket s) throws IOException {
    try {
      return new DataInputStream(s.getInputStream()).read();
    } catch (java.net.SocketException e) {
      // Reset by the broker closing with unread bytes: closed too.
      return -1;
    }
  }

  /** What Admin fails with when it authenticates with these credentials. */
  private Throwable refusal(String mechanism, String user, String password) {
    try (Admin admin = Admin.create(client(mechanism, user, password))) {
      admin.describeCluster().nodes().get();
      throw new AssertionError(user + " was let in with " + mechanism);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private Map<String, Object> client(String mechanism, String user, String password) {
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", "127.0.0.1:" + broker.port());
    config.put("security.protocol", "SASL_PLAINTEXT");
    config.put("sasl.mechanism", mechanism);
    String module =
        mechanism.equals("PLAIN")
            ? "org.apache.kafka.common.security.plain.PlainLoginModule"
            : "org.apache.kafka.common.security.scram.ScramLoginModule";
    config.put(
        "sasl.jaas.config",
        module + " required username=\"" + user + "\" password=\"" + password + "\";");
    config.put("request.timeout.ms", 10_000);
    config.put("default.api.timeout.ms", 15_000);
    return config;
  }

  private double authentications(String outcome) {
    return metrics
        .registry()
        .find("diskless.sasl.authentications")
        .tag("outcome", outcome)
        .counters()
        .stream()
        .mapToDouble(c -> c.count())
        .sum();
  }
}
