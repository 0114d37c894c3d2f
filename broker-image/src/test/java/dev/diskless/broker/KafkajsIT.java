package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.diskless.broker.config.BrokerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * kafkajs, a third Kafka client family (pure JavaScript, no librdkafka, its own protocol code and
 * API versions), against the broker: topic creation, an idempotent producer, a consumer group of
 * two sharing four partitions with committed offsets, and a transaction. CI installs kafkajs from
 * the npm registry into {@code ~/.cache/diskless-kafkajs} ({@code DISKLESS_KAFKAJS_DIR}).
 */
class KafkajsIT {

  private static Path kafkajs() {
    String dir = System.getenv("DISKLESS_KAFKAJS_DIR");
    return Path.of(
        dir != null ? dir : System.getProperty("user.home") + "/.cache/diskless-kafkajs",
        "node_modules");
  }

  @Test
  void produceConsumeInAGroupAndCommitATransaction() throws Exception {
    Path modules = kafkajs();
    boolean installed = Files.isDirectory(modules.resolve("kafkajs"));
    if (System.getenv("DISKLESS_REQUIRE_KAFKAJS") != null) {
      assertThat(installed).as("kafkajs under " + modules).isTrue();
    }
    assumeTrue(installed, "kafkajs is not installed (npm install kafkajs); CI installs it");
    Path script = Files.createTempFile("kafkajs-clients", ".js");
    try (InputStream in = KafkajsIT.class.getResourceAsStream("/kafkajs/clients.js")) {
      Files.write(script, in.readAllBytes());
    }
    try (Broker broker = Broker.start(BrokerConfig.local("kafkajs", TestStorage.fresh()))) {
      ProcessBuilder pb = new ProcessBuilder(List.of("node", script.toString()));
      pb.environment().put("NODE_PATH", modules.toString());
      pb.environment().put("BROKERS", "127.0.0.1:" + broker.port());
      pb.environment().put("TOPIC", "kafkajs-orders");
      Path err = Files.createTempFile("kafkajs", ".err");
      pb.redirectError(err.toFile());
      Process node = pb.start();
      String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean done = node.waitFor(150, TimeUnit.SECONDS);
      String errors = read(err);
      assertThat(done).as("kafkajs finished; stderr: " + errors).isTrue();
      assertThat(node.exitValue()).as("kafkajs exit; stderr: " + errors).isZero();
      String result = out.strip().lines().reduce((a, b) -> b).orElse("");
      // 200 records read by the group and committed; the transaction adds its record and its
      // commit marker.
      assertThat(result)
          .contains("\"brokers\":1")
          .contains("\"read\":200")
          .contains("\"committed\":200")
          .contains("\"high\":200")
          .contains("\"afterTxn\":202");
    } finally {
      Files.deleteIfExists(script);
    }
  }

  private static String read(Path p) throws IOException {
    String s = Files.readString(p);
    return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
  }
}
