package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.playground.LocalCertificates;
import dev.diskless.broker.playground.LocalCertificates.Issued;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.security.TlsConfig;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.testing.RawKafkaClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS listeners as Kafka clients meet them: SASL_SSL with SCRAM, mutual TLS, a fetch response of
 * megabytes, a plaintext client on the TLS port turned away alone, and a renewed certificate (files
 * rewritten, as the kubelet does with a Secret) served to new connections without a restart. The
 * server key is PKCS#1, as cert-manager writes RSA keys.
 */
class TlsIT {

  @TempDir Path dir;
  private StorageConfig storage;
  private Issued ca;
  private Path certificate;
  private Path key;
  private Path caFile;
  private Broker broker;

  @BeforeEach
  void certificates() throws IOException {
    storage = TestStorage.fresh();
    ca = LocalCertificates.ca("test-ca");
    Issued server = LocalCertificates.server(ca);
    certificate =
        LocalCertificates.writeCertificates(
            dir.resolve("tls.crt"), server.certificate(), ca.certificate());
    key = LocalCertificates.writePkcs1Key(dir.resolve("tls.key"), server.keys().getPrivate());
    caFile = LocalCertificates.writeCertificates(dir.resolve("ca.crt"), ca.certificate());
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void saslSslWithScramServesClientsAndTurnsAPlaintextClientAway() throws Exception {
    broker =
        Broker.start(
            BrokerConfig.local("tls", storage)
                .withSecurity(
                    SecurityConfig.sasl("SCRAM-SHA-512")
                        .withBootstrapUser("admin", "admin-pw")
                        .withTls(TlsConfig.server(certificate, key))));
    Map<String, Object> client = trusting(caFile);
    client.put("security.protocol", "SASL_SSL");
    client.put("sasl.mechanism", "SCRAM-SHA-512");
    client.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\""
            + " password=\"admin-pw\";");
    try (Admin admin = Admin.create(client)) {
      admin.createTopics(List.of(new NewTopic("encrypted", 2, (short) 1))).all().get();
    }
    assertThat(produceAndConsume(client, "encrypted")).hasSize(10);

    // A plaintext client on the TLS port: only its connection goes.
    assertThatThrownBy(
            () ->
                RawKafkaClient.send(
                    broker.port(), new ApiVersionsRequest.Builder().build((short) 3)))
        .isInstanceOf(IOException.class);
    try (Admin admin = Admin.create(client)) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
  }

  @Test
  void mutualTlsAdmitsClientsWithACertificateOfTheCa() throws Exception {
    broker =
        Broker.start(
            BrokerConfig.local("mtls", storage)
                .withSecurity(
                    SecurityConfig.PLAINTEXT.withTls(
                        TlsConfig.server(certificate, key)
                            .withClientAuth(TlsConfig.ClientAuth.REQUIRED, caFile)
                            .withPrincipalMappingRules("RULE:^CN=([a-z]+),.*$/$1/L,DEFAULT"))));
    Issued alice = LocalCertificates.client(ca, "CN=alice,OU=payments,O=example");
    Path keystore = dir.resolve("alice.pem");
    Files.writeString(
        keystore,
        LocalCertificates.pkcs8(alice.keys().getPrivate())
            + LocalCertificates.pem(alice.certificate()));
    Map<String, Object> withCertificate = trusting(caFile);
    withCertificate.put("security.protocol", "SSL");
    withCertificate.put("ssl.keystore.type", "PEM");
    withCertificate.put("ssl.keystore.location", keystore.toString());
    try (Admin admin = Admin.create(withCertificate)) {
      admin.createTopics(List.of(new NewTopic("mutual", 1, (short) 1))).all().get();
    }
    assertThat(produceAndConsume(withCertificate, "mutual")).hasSize(10);

    Map<String, Object> without = trusting(caFile);
    without.put("security.protocol", "SSL");
    assertThat(refusal(without)).isInstanceOf(SslAuthenticationException.class);
  }

  @Test
  void aFetchOfManyMegabytesComesThroughTlsWhole() throws Exception {
    broker = startWithTls("large");
    Map<String, Object> client = trusting(caFile);
    client.put("security.protocol", "SSL");
    try (Admin admin = Admin.create(client)) {
      admin.createTopics(List.of(new NewTopic("large", 2, (short) 1))).all().get();
    }
    // 6 MiB in 100 KiB values over two partitions: one fetch response is many pieces of the
    // response writer, each encrypted on its own.
    Random random = new Random(11);
    List<byte[]> sent = new ArrayList<>();
    Map<String, Object> producerConfig = new HashMap<>(client);
    producerConfig.put("key.serializer", ByteArraySerializer.class.getName());
    producerConfig.put("value.serializer", ByteArraySerializer.class.getName());
    producerConfig.put("batch.size", 1 << 20);
    producerConfig.put("linger.ms", 20);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig)) {
      for (int i = 0; i < 60; i++) {
        byte[] value = new byte[100 << 10];
        random.nextBytes(value);
        sent.add(value);
        producer.send(new ProducerRecord<>("large", i % 2, null, value));
      }
      producer.flush();
    }
    Map<String, Object> consumerConfig = new HashMap<>(client);
    consumerConfig.put("group.id", "large-readers");
    consumerConfig.put("auto.offset.reset", "earliest");
    consumerConfig.put("max.partition.fetch.bytes", 8 << 20);
    consumerConfig.put("key.deserializer", ByteArrayDeserializer.class.getName());
    consumerConfig.put("value.deserializer", ByteArrayDeserializer.class.getName());
    Map<Integer, List<byte[]>> read = new HashMap<>();
    int count = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig)) {
      consumer.subscribe(List.of("large"));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (count < sent.size() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          read.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r.value());
          count++;
        }
      }
    }
    assertThat(count).isEqualTo(sent.size());
    for (int partition = 0; partition < 2; partition++) {
      List<byte[]> got = read.get(partition);
      assertThat(got).hasSize(sent.size() / 2);
      for (int i = 0; i < got.size(); i++) {
        assertThat(got.get(i)).isEqualTo(sent.get(2 * i + partition));
      }
    }
  }

  @Test
  void aRenewedCertificateIsServedToNewConnections() throws Exception {
    broker = startWithTls("renewal");
    Issued otherCa = LocalCertificates.ca("renewed-ca");
    Path otherCaFile =
        LocalCertificates.writeCertificates(dir.resolve("renewed-ca.crt"), otherCa.certificate());
    Map<String, Object> trustsOnlyTheNew = trusting(otherCaFile);
    trustsOnlyTheNew.put("security.protocol", "SSL");
    assertThat(refusal(trustsOnlyTheNew)).isInstanceOf(SslAuthenticationException.class);

    Issued renewed = LocalCertificates.server(otherCa);
    LocalCertificates.writeCertificates(certificate, renewed.certificate(), otherCa.certificate());
    LocalCertificates.writePkcs1Key(key, renewed.keys().getPrivate());
    // Past the old modification time whatever the file system's clock granularity.
    FileTime later = FileTime.from(Instant.now().plusSeconds(5));
    Files.setLastModifiedTime(certificate, later);
    Files.setLastModifiedTime(key, later);

    // The broker looks at the files every few seconds; new connections then get the new one.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> connects(trustsOnlyTheNew));
    Map<String, Object> trustsOnlyTheOld = trusting(caFile);
    trustsOnlyTheOld.put("security.protocol", "SSL");
    assertThat(refusal(trustsOnlyTheOld)).isInstanceOf(SslAuthenticationException.class);
  }

  /** A broker whose one listener is TLS with the test's server certificate, no SASL. */
  private Broker startWithTls(String instance) throws Exception {
    return Broker.start(
        BrokerConfig.local(instance, storage)
            .withSecurity(SecurityConfig.PLAINTEXT.withTls(TlsConfig.server(certificate, key))));
  }

  private Map<String, Object> trusting(Path caCertificates) {
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", "127.0.0.1:" + broker.port());
    config.put("ssl.truststore.type", "PEM");
    config.put("ssl.truststore.location", caCertificates.toString());
    config.put("request.timeout.ms", 10_000);
    config.put("default.api.timeout.ms", 15_000);
    return config;
  }

  private static boolean connects(Map<String, Object> config) {
    try (Admin admin = Admin.create(config)) {
      return admin.describeCluster().nodes().get().size() == 1;
    } catch (ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static Throwable refusal(Map<String, Object> config) {
    try (Admin admin = Admin.create(config)) {
      admin.describeCluster().nodes().get();
      throw new AssertionError("connected with " + config);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static List<String> produceAndConsume(Map<String, Object> client, String topic)
      throws Exception {
    Map<String, Object> producerConfig = new HashMap<>(client);
    producerConfig.put("key.serializer", StringSerializer.class.getName());
    producerConfig.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig)) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
      }
    }
    Map<String, Object> consumerConfig = new HashMap<>(client);
    consumerConfig.put("group.id", topic + "-readers");
    consumerConfig.put("auto.offset.reset", "earliest");
    consumerConfig.put("key.deserializer", StringDeserializer.class.getName());
    consumerConfig.put("value.deserializer", StringDeserializer.class.getName());
    List<String> read = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read.size() < 10 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          read.add(r.value());
        }
      }
    }
    return read;
  }
}
