package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.storage.StorageConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Apache Kafka's own system-test clients (kafka-tools 4.4.0 VerifiableProducer and
 * VerifiableConsumer, run as separate processes) against a 3-broker cluster: the set of records the
 * producer saw acknowledged equals the set each consumer group reads, record for record at the same
 * partition and offset, with the classic and the KIP-848 consumer protocol.
 */
class VerifiableClientsIT {

  private static final int MESSAGES = 3000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Broker> brokers = new ArrayList<>();

  @AfterEach
  void stop() {
    brokers.forEach(Broker::close);
  }

  /** One record as partition/offset/value, which both tools report. */
  record Seen(int partition, long offset, String value) {}

  @Test
  void acknowledgedSetEqualsConsumedSet() throws Exception {
    StorageConfig storage = TestStorage.fresh();
    for (int i = 0; i < 3; i++) {
      brokers.add(
          Broker.start(
              BrokerConfig.local("verifiable-" + i, storage)
                  .withGroupCoordinator(Map.of("group.initial.rebalance.delay.ms", "0"))));
    }
    String bootstrap =
        brokers.stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic("verifiable", 4, (short) 1))).all().get();
    }

    Set<Seen> acked = new HashSet<>();
    List<String> producerErrors = new ArrayList<>();
    int exit =
        run(
            List.of(
                "org.apache.kafka.tools.VerifiableProducer",
                "--bootstrap-server",
                bootstrap,
                "--topic",
                "verifiable",
                "--max-messages",
                String.valueOf(MESSAGES),
                "--acks",
                "-1"),
            event -> {
              switch (event.path("name").asText()) {
                case "producer_send_success" ->
                    acked.add(
                        new Seen(
                            event.get("partition").asInt(),
                            event.get("offset").asLong(),
                            event.get("value").asText()));
                case "producer_send_error" -> producerErrors.add(event.toString());
                default -> {}
              }
            });
    assertThat(exit).isZero();
    assertThat(producerErrors).isEmpty();
    assertThat(acked).hasSize(MESSAGES);

    for (String protocol : List.of("classic", "consumer")) {
      List<Seen> consumed = new ArrayList<>();
      exit =
          run(
              List.of(
                  "org.apache.kafka.tools.VerifiableConsumer",
                  "--bootstrap-server",
                  bootstrap,
                  "--topic",
                  "verifiable",
                  "--group-id",
                  "verifiable-" + protocol,
                  "--group-protocol",
                  protocol,
                  "--reset-policy",
                  "earliest",
                  "--max-messages",
                  String.valueOf(MESSAGES),
                  "--verbose"),
              event -> {
                if (event.path("name").asText().equals("record_data")) {
                  consumed.add(
                      new Seen(
                          event.get("partition").asInt(),
                          event.get("offset").asLong(),
                          event.get("value").asText()));
                }
              });
      assertThat(exit).as(protocol).isZero();
      assertThat(consumed).as(protocol + ": nothing read twice").doesNotHaveDuplicates();
      assertThat(new HashSet<>(consumed)).as(protocol).isEqualTo(acked);
    }
  }

  /** Runs a kafka-tools main class on this test's classpath; each JSON stdout line is an event. */
  private static int run(List<String> command, Consumer<JsonNode> events) throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.add("-cp");
    argv.add(System.getProperty("java.class.path"));
    argv.addAll(command);
    Process process =
        new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("{")) {
          events.accept(JSON.readTree(line));
        }
      }
    }
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError(command.get(0) + " did not finish");
    }
    return process.exitValue();
  }
}
