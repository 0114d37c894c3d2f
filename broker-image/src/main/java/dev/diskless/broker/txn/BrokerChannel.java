package dev.diskless.broker.txn;

import dev.diskless.broker.security.TlsContexts;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.ApiVersions;
import org.apache.kafka.clients.BootstrapConfiguration;
import org.apache.kafka.clients.ClientResponse;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.ManualMetadataUpdater;
import org.apache.kafka.clients.MetadataRecoveryStrategy;
import org.apache.kafka.clients.NetworkClient;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Reconfigurable;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.network.ChannelBuilder;
import org.apache.kafka.common.network.ChannelBuilders;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.network.NetworkReceive;
import org.apache.kafka.common.network.Selectable;
import org.apache.kafka.common.network.Selector;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.LogContext;
import org.apache.kafka.server.util.InterBrokerSendThread;
import org.apache.kafka.server.util.RequestAndCompletionHandler;

/**
 * Requests from this broker to the others (transaction markers to a partition's owner) on their
 * inter-broker listener, with its security (on SASL as the bootstrap user), over Kafka's own {@link
 * NetworkClient} driven by one {@link InterBrokerSendThread}, the way Kafka's transaction marker
 * channel does: connections are kept per broker and re-established with backoff, and every request
 * completes with the response or with the connection's failure.
 */
public final class BrokerChannel implements AutoCloseable {

  private static final int REQUEST_TIMEOUT_MS = 30_000;

  private final Queue<RequestAndCompletionHandler> queue = new ConcurrentLinkedQueue<>();
  private final Metrics metrics = new Metrics();
  private final SendThread thread;
  private final SettingsRefresh refresh;

  /** How often the client security settings are read again: as often as listeners look. */
  static final long SETTINGS_REFRESH_MS = TlsContexts.RELOAD_CHECK.toMillis();

  /** A channel to the others' PLAINTEXT listeners. */
  public BrokerChannel(int nodeId) {
    this(nodeId, new ListenerName("PLAINTEXT"), SecurityProtocol.PLAINTEXT, Map::of);
  }

  /**
   * A channel to the others' inter-broker listener {@code listener} with {@code protocol}; {@code
   * clientConfigs} gives Kafka client security settings ({@code sasl.mechanism}, {@code
   * sasl.jaas.config}, {@code ssl.*}) as {@link InterBrokerClient} renders them, asked for again
   * every {@link #SETTINGS_REFRESH_MS}: changed TLS settings (renewed certificates) are applied to
   * the connections made from then on, as Kafka reconfigures a listener's SSL factory.
   */
  public BrokerChannel(
      int nodeId,
      ListenerName listener,
      SecurityProtocol protocol,
      Supplier<Map<String, Object>> clientConfigs) {
    LogContext log = new LogContext("[broker-channel node=" + nodeId + "] ");
    Map<String, Object> initial = clientConfigs.get();
    AbstractConfig config = config(protocol, initial);
    ChannelBuilder channels =
        ChannelBuilders.clientChannelBuilder(
            protocol,
            JaasContext.Type.CLIENT,
            config,
            listener,
            config.getString(SaslConfigs.SASL_MECHANISM),
            Time.SYSTEM,
            log);
    this.refresh =
        new SettingsRefresh(
            initial,
            clientConfigs,
            fresh -> reconfigure(channels, config(protocol, fresh)),
            SETTINGS_REFRESH_MS,
            Time.SYSTEM.milliseconds());
    Selector selector =
        new Selector(
            NetworkReceive.UNLIMITED,
            9 * 60_000L,
            metrics,
            Time.SYSTEM,
            "broker-channel",
            Map.of(),
            false,
            channels,
            log);
    NetworkClient client =
        new NetworkClient(
            selector,
            new ManualMetadataUpdater(),
            "broker-" + nodeId + "-channel",
            1,
            50,
            1_000,
            Selectable.USE_DEFAULT_BUFFER_SIZE,
            Selectable.USE_DEFAULT_BUFFER_SIZE,
            REQUEST_TIMEOUT_MS,
            10_000,
            30_000,
            Time.SYSTEM,
            false,
            new ApiVersions(),
            log,
            MetadataRecoveryStrategy.NONE,
            BootstrapConfiguration.DISABLED,
            false);
    this.thread = new SendThread("broker-channel-" + nodeId, client);
    thread.start();
  }

  private static AbstractConfig config(SecurityProtocol protocol, Map<String, Object> settings) {
    Map<String, Object> configs = new HashMap<>(settings);
    configs.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol.name);
    return new AbstractConfig(
        new ConfigDef()
            .define(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG,
                ConfigDef.Type.STRING,
                ConfigDef.Importance.HIGH,
                "")
            .withClientSslSupport()
            .withClientSaslSupport(),
        configs,
        false);
  }

  /**
   * Registers {@code diskless.interbroker.client.settings.changes{listener,outcome}}: renewed
   * security settings applied to the connections made from then on, or refused (those in use kept),
   * so that a renewal the brokers' own client did not take shows before its markers fail. A broker
   * that joins again after losing its lease makes a new channel: its counters replace the old
   * channel's (Micrometer would keep reading the first ones), starting again from zero.
   */
  public BrokerChannel bindTo(MeterRegistry meters, String listener) {
    String name = "diskless.interbroker.client.settings.changes";
    for (var outcome :
        List.of(Map.entry("applied", refresh.applied()), Map.entry("refused", refresh.refused()))) {
      meters
          .find(name)
          .tag("listener", listener)
          .tag("outcome", outcome.getKey())
          .meters()
          .forEach(meters::remove);
      FunctionCounter.builder(name, outcome.getValue(), AtomicLong::get)
          .description(
              "Renewed inter-broker client security settings: applied to new connections, or"
                  + " refused")
          .tag("listener", listener)
          .tag("outcome", outcome.getKey())
          .register(meters);
    }
    return this;
  }

  /** New SSL settings for the connections made from now on (Kafka's SslFactory swap). */
  private static void reconfigure(ChannelBuilder channels, AbstractConfig config) {
    if (channels instanceof Reconfigurable r) {
      Map<String, ?> values = config.values();
      r.validateReconfiguration(values);
      r.reconfigure(values);
    }
  }

  /**
   * Sends {@code request} to broker {@code to}; completes with its response, or fails when the
   * connection failed or the request timed out.
   */
  public CompletableFuture<AbstractResponse> send(Node to, AbstractRequest.Builder<?> request) {
    CompletableFuture<AbstractResponse> done = new CompletableFuture<>();
    queue.add(
        new RequestAndCompletionHandler(
            Time.SYSTEM.milliseconds(), to, request, response -> complete(done, to, response)));
    thread.wakeup();
    return done;
  }

  private static void complete(
      CompletableFuture<AbstractResponse> done, Node to, ClientResponse response) {
    if (response.wasTimedOut()) {
      done.completeExceptionally(new TimeoutException("request to node " + to.id() + " timed out"));
    } else if (response.wasDisconnected()) {
      done.completeExceptionally(
          new DisconnectException("connection to node " + to.id() + " failed"));
    } else if (response.versionMismatch() != null) {
      done.completeExceptionally(response.versionMismatch());
    } else if (response.authenticationException() != null) {
      done.completeExceptionally(response.authenticationException());
    } else {
      done.complete(response.responseBody());
    }
  }

  @Override
  public void close() {
    try {
      thread.shutdown();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    metrics.close();
  }

  private final class SendThread extends InterBrokerSendThread {
    SendThread(String name, NetworkClient client) {
      super(name, client, REQUEST_TIMEOUT_MS, Time.SYSTEM);
    }

    /**
     * Wakes at least every settings period, not only when a request is queued: renewed settings are
     * then applied (and counted) while no markers flow, not first when the next ones are sent.
     */
    @Override
    public void doWork() {
      pollOnce(SETTINGS_REFRESH_MS);
    }

    @Override
    public Collection<RequestAndCompletionHandler> generateRequests() {
      // On the send thread, which alone uses the channel builder.
      refresh.maybeRefresh(Time.SYSTEM.milliseconds());
      List<RequestAndCompletionHandler> out = new ArrayList<>();
      for (RequestAndCompletionHandler r; (r = queue.poll()) != null; ) {
        out.add(r);
      }
      return out;
    }
  }
}
