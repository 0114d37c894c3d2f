package dev.diskless.broker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka client settings for a user of a SASL_PLAINTEXT listener, and the produce and consume loops
 * tests run as that user.
 */
public final class SaslClients {

  private SaslClients() {}

  /** Settings for {@code user} with {@code mechanism} (PLAIN or SCRAM-SHA-256/512). */
  public static Map<String, Object> config(
      String bootstrap, String mechanism, String user, String password) {
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("security.protocol", "SASL_PLAINTEXT");
    config.put("sasl.mechanism", mechanism);
    config.put("sasl.jaas.config", jaas(mechanism, user, password));
    config.put("request.timeout.ms", 10_000);
    config.put("default.api.timeout.ms", 15_000);
    return config;
  }

  /** The same as a properties file, for Kafka's command-line tools ({@code --command-config}). */
  public static Path propertiesFile(String mechanism, String user, String password) {
    try {
      Path file = Files.createTempFile("client-" + user, ".properties");
      file.toFile().deleteOnExit();
      Files.writeString(
          file,
          "security.protocol=SASL_PLAINTEXT\n"
              + "sasl.mechanism="
              + mechanism
              + "\nsasl.jaas.config="
              + jaas(mechanism, user, password)
              + "\n");
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String jaas(String mechanism, String user, String password) {
    String module =
        mechanism.equals("PLAIN")
            ? "org.apache.kafka.common.security.plain.PlainLoginModule"
            : "org.apache.kafka.common.security.scram.ScramLoginModule";
    return module + " required username=\"" + user + "\" password=\"" + password + "\";";
  }

  /** Sends {@code count} records v0..v(count-1) to {@code topic}, each acknowledged. */
  public static void produce(Map<String, Object> client, String topic, int count) throws Exception {
    Map<String, Object> config = new HashMap<>(client);
    config.put("key.serializer", StringSerializer.class.getName());
    config.put("value.serializer", StringSerializer.class.getName());
    config.put("max.block.ms", 15_000);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
      for (int i = 0; i < count; i++) {
        producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
      }
    }
  }

  /** Reads {@code topic} from the start as {@code group} until {@code count} values or 30 s. */
  public static List<String> consume(
      Map<String, Object> client, String topic, String group, int count) {
    Map<String, Object> config = new HashMap<>(client);
    config.put("group.id", group);
    config.put("auto.offset.reset", "earliest");
    config.put("key.deserializer", StringDeserializer.class.getName());
    config.put("value.deserializer", StringDeserializer.class.getName());
    List<String> read = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          read.add(r.value());
        }
      }
    }
    return read;
  }
}
