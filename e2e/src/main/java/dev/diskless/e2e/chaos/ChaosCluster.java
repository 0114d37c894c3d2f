package dev.diskless.e2e.chaos;

import dev.diskless.e2e.kube.NamespacePodNetwork;
import dev.diskless.e2e.kube.PodNetwork.Attachment;
import dev.diskless.e2e.kube.TcpForwarder;
import dev.diskless.storage.metadata.MetadataConfig;
import dev.diskless.storage.objectstore.ObjectStoreConfig;
import dev.diskless.storage.testing.RestartablePostgres;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.fault.FaultProxy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster a chaos run attacks, every part a real server: a PostgreSQL server (restartable,
 * pausable), S3Proxy behind a {@link FaultProxy}, and brokers as separate processes. Where the
 * machine allows network namespaces (root), each broker gets its own, and PostgreSQL, the object
 * store and the clients each sit at an address of their own on the node, so one broker can be cut
 * from any of them alone; elsewhere brokers share the loopback and cuts are unavailable.
 */
final class ChaosCluster implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ChaosCluster.class);

  /** What a network cut separates a broker from. */
  enum Cut {
    POSTGRES,
    OBJECT_STORE,
    CLIENTS,
    EVERYTHING
  }

  private final RestartablePostgres postgres;
  private final FaultProxy objectStore;
  private final NamespacePodNetwork network;
  private Path clockShim;
  private final List<TcpForwarder> forwarders = new ArrayList<>();
  private final List<BrokerNode> brokers = new ArrayList<>();
  private final Map<BrokerNode, Attachment> attachments = new LinkedHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private String postgresAddress;
  private String objectStoreAddress;

  private ChaosCluster(
      RestartablePostgres postgres, FaultProxy objectStore, NamespacePodNetwork n) {
    this.postgres = postgres;
    this.objectStore = objectStore;
    this.network = n;
  }

  /**
   * Starts PostgreSQL, the object store and {@code count} brokers from {@code brokerJar}, with
   * {@code settings} added to each broker's, and waits until all serve.
   */
  static ChaosCluster start(
      int count,
      Path brokerJar,
      Path dir,
      Map<String, String> settings,
      boolean namespaces,
      boolean clocks)
      throws Exception {
    RestartablePostgres postgres = new RestartablePostgres();
    FaultProxy objectStore = new FaultProxy(S3ProxyFixture.get().endpoint());
    NamespacePodNetwork network = null;
    if (namespaces) {
      try {
        network = NamespacePodNetwork.create();
      } catch (IOException e) {
        LOG.warn("no network namespaces, brokers share the loopback: {}", e.getMessage());
      }
    }
    ChaosCluster cluster = new ChaosCluster(postgres, objectStore, network);
    if (clocks) {
      cluster.clockShim = FakeClock.build(dir);
    }
    try {
      cluster.startBrokers(count, brokerJar, dir, settings);
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  private void startBrokers(int count, Path brokerJar, Path dir, Map<String, String> settings)
      throws Exception {
    MetadataConfig metadata = postgres.newDatabase("chaos");
    ObjectStoreConfig bucket = S3ProxyFixture.get().newBucket(objectStore.endpoint());
    String jdbcUrl = metadata.jdbcUrl();
    String s3Endpoint = objectStore.endpoint().toString();
    if (network != null) {
      // Each service at an address of its own on the node, relayed to its loopback port.
      postgresAddress = network.nodeAlias();
      objectStoreAddress = network.nodeAlias();
      forwarders.add(
          new TcpForwarder(
              new InetSocketAddress(postgresAddress, 5432),
              () -> new InetSocketAddress("127.0.0.1", postgres.port())));
      forwarders.add(
          new TcpForwarder(
              new InetSocketAddress(objectStoreAddress, 9000),
              () -> new InetSocketAddress("127.0.0.1", objectStore.endpoint().getPort())));
      jdbcUrl = "jdbc:postgresql://" + postgresAddress + ":5432/chaos";
      s3Endpoint = "http://" + objectStoreAddress + ":9000";
    }
    for (int i = 0; i < count; i++) {
      String name = "broker-" + i;
      Map<String, String> all = new LinkedHashMap<>();
      all.put("instance.id", name);
      String address;
      int port;
      int httpPort;
      List<String> launcher;
      Attachment attachment = null;
      if (network != null) {
        attachment = network.attach();
        address = attachment.ip();
        port = 9092;
        httpPort = 8080;
        all.put("listen.host", "0.0.0.0");
        launcher = network.wrap(attachment, List.of());
      } else {
        address = "127.0.0.1";
        port = freePort();
        httpPort = freePort();
        all.put("listen.host", address);
        launcher = List.of();
      }
      all.put("listen.port", Integer.toString(port));
      all.put("advertised.host", address);
      all.put("http.port", Integer.toString(httpPort));
      all.put("object.store.bucket", bucket.bucket());
      all.put("object.store.region", bucket.region());
      all.put("object.store.endpoint", s3Endpoint);
      all.put("object.store.access.key.id", S3ProxyFixture.ACCESS_KEY);
      all.put("object.store.secret.access.key", S3ProxyFixture.SECRET_KEY);
      all.put("metadata.jdbc.url", jdbcUrl);
      all.put("metadata.user", metadata.user());
      all.put("metadata.password", metadata.password());
      all.put("metadata.pool.size", "8");
      all.putAll(settings);
      BrokerNode node =
          new BrokerNode(
              name,
              address,
              port,
              httpPort,
              launcher,
              brokerJar,
              all,
              dir,
              clockShim == null ? null : new FakeClock(clockShim, dir.resolve(name + ".clock")));
      brokers.add(node);
      if (attachment != null) {
        attachments.put(node, attachment);
      }
      node.start();
    }
    awaitReady(Duration.ofSeconds(120));
  }

  /** Waits until every running broker serves. */
  void awaitReady(Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (brokers.stream().allMatch(BrokerNode::ready)) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "brokers not ready within "
            + within
            + ": "
            + brokers.stream()
                .filter(b -> !b.ready())
                .map(BrokerNode::name)
                .collect(Collectors.joining(", ")));
  }

  /**
   * Brings every broker back to serving for the next class: waits up to {@code within} for them,
   * then restarts those that still do not serve (a cluster that needs this did not recover by
   * itself). Returns the names of the brokers it restarted.
   */
  List<String> restore(Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline && !brokers.stream().allMatch(BrokerNode::ready)) {
      Thread.sleep(200);
    }
    List<String> restarted = new ArrayList<>();
    for (BrokerNode b : brokers) {
      if (!b.ready()) {
        b.resume();
        b.kill();
        b.start();
        restarted.add(b.name());
      }
    }
    if (!restarted.isEmpty()) {
      awaitReady(Duration.ofSeconds(120));
    }
    return restarted;
  }

  List<BrokerNode> brokers() {
    return brokers;
  }

  String bootstrap() {
    return brokers.stream().map(BrokerNode::bootstrap).collect(Collectors.joining(","));
  }

  RestartablePostgres postgres() {
    return postgres;
  }

  FaultProxy objectStore() {
    return objectStore;
  }

  /** Whether brokers can be cut from parts of the network (network namespaces). */
  /** Whether the brokers run with a shiftable wall clock ({@link FakeClock}). */
  boolean canJumpClocks() {
    return clockShim != null;
  }

  boolean canCut() {
    return network != null;
  }

  /** Cuts {@code broker} from {@code what}; {@link #heal} undoes it. */
  void cut(BrokerNode broker, Cut what) throws IOException {
    for (String cidr : cidrs(what)) {
      network.cut(attachments.get(broker), cidr);
    }
  }

  void heal(BrokerNode broker, Cut what) throws IOException {
    for (String cidr : cidrs(what)) {
      network.heal(attachments.get(broker), cidr);
    }
  }

  private List<String> cidrs(Cut what) {
    if (network == null) {
      throw new IllegalStateException("network cuts need network namespaces");
    }
    return switch (what) {
      case POSTGRES -> List.of(postgresAddress + "/32");
      case OBJECT_STORE -> List.of(objectStoreAddress + "/32");
      // Clients connect from the node's own address.
      case CLIENTS -> List.of(network.nodeAddress() + "/32");
      // Two halves are more specific than the pod network's own route, so they win over it.
      case EVERYTHING -> List.of("10.244.0.0/25", "10.244.0.128/25");
    };
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (BrokerNode b : brokers) {
      try {
        b.resume();
        b.kill();
      } catch (Exception e) {
        LOG.warn("stopping {}: {}", b.name(), e.toString());
      }
    }
    for (TcpForwarder f : forwarders) {
      try {
        f.close();
      } catch (IOException e) {
        LOG.debug("closing a forwarder: {}", e.toString());
      }
    }
    if (network != null) {
      network.close();
    }
    objectStore.close();
    try {
      postgres.close();
    } catch (Exception e) {
      LOG.warn("stopping PostgreSQL: {}", e.toString());
    }
  }
}
