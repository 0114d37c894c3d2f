package dev.diskless.broker;

import dev.diskless.broker.config.BrokerConfig;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One broker on fresh storage (its own database and bucket) for each test of a class that registers
 * it with {@code @RegisterExtension}: started before the test, closed after it, so tests that need
 * a single broker read as what they test.
 */
final class LocalBroker implements BeforeEachCallback, AfterEachCallback {

  private final String name;
  private Broker broker;

  LocalBroker(String name) {
    this.name = name;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    broker = Broker.start(BrokerConfig.local(name, TestStorage.fresh()));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (broker != null) {
      broker.close();
      broker = null;
    }
  }

  Broker get() {
    return broker;
  }

  String bootstrap() {
    return "127.0.0.1:" + broker.port();
  }

  /** An Admin client of this broker; the caller closes it. */
  Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
  }
}
