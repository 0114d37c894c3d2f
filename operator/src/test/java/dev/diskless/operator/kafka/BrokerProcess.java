package dev.diskless.operator.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.diskless.operator.testing.S3ProxyServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The broker's own jar (built by the broker-image module) run as a process for the operator's
 * tests, over an embedded PostgreSQL of its own and a bucket of the given S3Proxy, with the
 * listener and security settings a test gives (as the operator renders them) and the operator's
 * user as its bootstrap user. Started when it accepts connections on {@code readyPort}.
 */
final class BrokerProcess implements AutoCloseable {

  /** The operator user's password the broker is started with. */
  static final String OPERATOR_PASSWORD = "operator-secret";

  private final EmbeddedPostgres pg;
  private final Process process;

  private BrokerProcess(EmbeddedPostgres pg, Process process) {
    this.pg = pg;
    this.process = process;
  }

  static BrokerProcess start(
      Path dir, String bucket, S3ProxyServer s3, List<String> settings, int readyPort)
      throws Exception {
    Path jar = Path.of("..", "broker-image", "target", "diskless-broker.jar");
    assertThat(jar).as("the broker jar (built by the broker-image module)").exists();
    EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
    s3.createBucket(bucket);
    List<String> lines = new ArrayList<>(settings);
    lines.addAll(
        List.of(
            "instance.id=" + bucket,
            "advertised.host=127.0.0.1",
            "http.port=-1",
            "metadata.jdbc.url=jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres",
            "metadata.user=postgres",
            "object.store.bucket=" + bucket,
            "object.store.endpoint=" + s3.endpoint(),
            "object.store.path.style=true",
            "object.store.access.key.id=" + S3ProxyServer.ACCESS_KEY));
    Path file = dir.resolve("broker.properties");
    Files.writeString(file, String.join("\n", lines));
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString(),
                "broker",
                "--config",
                file.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("broker.log").toFile());
    pb.environment().put("DISKLESS_SASL_BOOTSTRAP_PASSWORD", OPERATOR_PASSWORD);
    pb.environment().put("DISKLESS_METADATA_PASSWORD", "postgres");
    pb.environment().put("DISKLESS_OBJECT_STORE_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
    BrokerProcess broker = null;
    try {
      broker = new BrokerProcess(pg, pb.start());
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(
              () -> {
                try (Socket s = new Socket("127.0.0.1", readyPort)) {
                  return true;
                }
              });
      return broker;
    } catch (Exception | Error e) {
      if (broker != null) {
        broker.close();
      } else {
        pg.close();
      }
      throw e;
    }
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    process.waitFor(30, TimeUnit.SECONDS);
    process.destroyForcibly();
    pg.close();
  }
}
