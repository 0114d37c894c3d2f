package dev.diskless.broker.network;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.diskless.broker.playground.LocalCertificates;
import dev.diskless.broker.playground.LocalCertificates.Issued;
import dev.diskless.broker.security.TlsConfig;
import dev.diskless.broker.security.TlsContexts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listener that cannot be bound fails the server's start and leaves nothing running: no port
 * bound, and no TLS file watcher of any listener, also of those after the one that failed.
 */
class KafkaServerBindTest {

  @TempDir Path dir;

  @Test
  void aPortInUseStopsEveryListenersTlsWatcher() throws Exception {
    Issued ca = LocalCertificates.ca("unit-ca");
    Issued server = LocalCertificates.server(ca);
    TlsConfig tls =
        TlsConfig.server(
            LocalCertificates.writeCertificates(dir.resolve("tls.crt"), server.certificate()),
            LocalCertificates.writePkcs1Key(dir.resolve("tls.key"), server.keys().getPrivate()));
    long watchersBefore = watchers();
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<KafkaServer.Binding> bindings =
          List.of(
              binding("first", 0, tls),
              binding("taken", taken.getLocalPort(), tls),
              binding("after", 0, tls));
      assertThatThrownBy(
              () ->
                  new KafkaServer(
                      1 << 20, 1 << 20, new SimpleMeterRegistry(), () -> null, bindings))
          .hasStackTraceContaining("Address already in use");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> watchers() == watchersBefore);
  }

  private static KafkaServer.Binding binding(String name, int port, TlsConfig tls) {
    return new KafkaServer.Binding(
        ListenerName.normalised(name),
        "127.0.0.1",
        port,
        SecurityProtocol.SSL,
        null,
        new TlsContexts(tls));
  }

  private static long watchers() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().equals("tls-reload"))
        .count();
  }
}
