package dev.diskless.broker;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.config.BrokerSettings;
import dev.diskless.broker.playground.LocalObjectStore;
import dev.diskless.broker.playground.Playground;
import dev.diskless.broker.playground.TrainingRun;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The command line: {@code playground [--brokers 3] [--dir ./playground-data] [--wal volume]
 * [--secure] [--object-store URL]} starts a local cluster on real components and prints {@code
 * bootstrap.servers=...} and {@code metrics=...} (each broker's Prometheus endpoint); {@code
 * object-store} runs the playground's S3Proxy alone; {@code broker [--config FILE]} runs one broker
 * from a settings file and {@code DISKLESS_*} environment variables (the container entrypoint);
 * {@code train} runs a short workload on a one-broker playground and exits, for the image build to
 * record the JVM's ahead-of-time cache. The first two run until SIGTERM, on which a broker drains:
 * it hands its partitions over, committed, and deregisters.
 */
public final class BrokerMain {

  private BrokerMain() {}

  private static void runBroker(String[] args) throws Exception {
    Optional<Path> file = Optional.of(Path.of("/etc/diskless/broker.properties"));
    if (args.length >= 3 && args[1].equals("--config")) {
      file = Optional.of(Path.of(args[2]));
    }
    if (!Files.exists(file.get())) {
      file = Optional.empty();
    }
    BrokerConfig config;
    try {
      config = BrokerSettings.load(file, System.getenv()).toConfig();
    } catch (IllegalArgumentException e) {
      System.err.println("invalid broker settings: " + e.getMessage());
      System.exit(2);
      return;
    }
    // A broker that cannot recover (no lease for longer than the rejoin timeout) halts itself and
    // exits non-zero, so that Kubernetes restarts it.
    Broker broker = Broker.start(config, System::exit);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  broker.close();
                  stopped.countDown();
                }));
    stopped.await();
  }

  /** The value after option {@code args[i]}; exits with a usage error when there is none. */
  private static String valueOf(String[] args, int i) {
    if (i + 1 >= args.length) {
      System.err.println(args[i] + " needs a value");
      System.exit(2);
    }
    return args[i + 1];
  }

  /**
   * {@code value} of {@code option} as a number in [min, max]; exits with a usage error when it is
   * not one.
   */
  private static int numberOf(String option, String value, int min, int max) {
    try {
      int n = Integer.parseInt(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // Reported below, as an out-of-range number is.
    }
    System.err.println(option + " takes a number from " + min + " to " + max + ", got " + value);
    System.exit(2);
    return min;
  }

  /**
   * An S3-compatible endpoint for {@code --object-store}: the keys from the AWS SDK's usual
   * environment variables when both are set, otherwise those of {@code object-store}.
   */
  private static Playground.ObjectStore objectStore(String url) {
    URI endpoint;
    try {
      endpoint = URI.create(url);
    } catch (IllegalArgumentException e) {
      endpoint = null;
    }
    if (endpoint == null
        || endpoint.getHost() == null
        || !(url.startsWith("http://") || url.startsWith("https://"))) {
      System.err.println("--object-store takes an http(s)://host:port URL, got " + url);
      System.exit(2);
    }
    String accessKey = System.getenv("AWS_ACCESS_KEY_ID");
    String secretKey = System.getenv("AWS_SECRET_ACCESS_KEY");
    if (accessKey != null && secretKey != null) {
      return new Playground.ObjectStore(endpoint, accessKey, secretKey);
    }
    return Playground.ObjectStore.local(endpoint);
  }

  /**
   * {@code object-store [--dir DIR] [--port N]}: the playground's S3Proxy in a process of its own,
   * keeping its objects under {@code DIR/s3}; prints {@code object.store=URL} and runs until
   * SIGTERM.
   */
  private static void runObjectStore(String[] args) throws Exception {
    Path dir = Path.of("playground-data");
    int port = 0;
    for (int i = 1; i < args.length; i += 2) {
      String value = valueOf(args, i);
      switch (args[i]) {
        case "--dir" -> dir = Path.of(value);
        case "--port" -> port = numberOf("--port", value, 0, 65535);
        default -> {
          System.err.println("unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    LocalObjectStore store = LocalObjectStore.start(dir.toAbsolutePath().resolve("s3"), port);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  store.close();
                  stopped.countDown();
                }));
    System.out.println("object.store=" + store.endpoint());
    System.out.flush();
    stopped.await();
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("broker")) {
      runBroker(args);
      return;
    }
    if (args.length > 0 && args[0].equals("train")) {
      TrainingRun.run(Path.of(System.getProperty("java.io.tmpdir")));
      // Library threads that outlive the playground must not keep the build waiting; the JVM
      // writes the AOT cache on this exit.
      System.exit(0);
    }
    if (args.length > 0 && args[0].equals("object-store")) {
      runObjectStore(args);
      return;
    }
    if (args.length == 0 || !args[0].equals("playground")) {
      System.err.println(
          "usage: java -jar diskless-broker.jar playground [--brokers N] [--dir DIR] [--wal object|volume] [--secure]\n"
              + "                                    [--object-store URL]   (keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)\n"
              + "       java -jar diskless-broker.jar object-store [--dir DIR] [--port N]   (the playground's S3Proxy alone)\n"
              + "       java -jar diskless-broker.jar broker [--config FILE]   (settings: FILE and DISKLESS_* env)\n"
              + "       java -XX:AOTCacheOutput=FILE -jar diskless-broker.jar train   (trains the JVM's AOT cache)");
      System.exit(2);
    }
    Playground.Options options = Playground.Options.of(3);
    Path dir = Path.of("playground-data");
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--secure")) {
        options = options.withSecurity();
        continue;
      }
      String value = valueOf(args, i++);
      switch (args[i - 1]) {
        case "--brokers" -> options = options.withBrokers(numberOf("--brokers", value, 1, 64));
        case "--dir" -> dir = Path.of(value);
        case "--wal" -> {
          if (!value.equals("object") && !value.equals("volume")) {
            System.err.println("--wal takes object or volume, got " + value);
            System.exit(2);
          }
          if (value.equals("volume")) {
            options = options.withVolumeWal();
          }
        }
        case "--object-store" -> options = options.withObjectStore(objectStore(value));
        default -> {
          System.err.println("unknown option " + args[i - 1]);
          System.exit(2);
        }
      }
    }
    Playground playground = new Playground(dir.toAbsolutePath(), options);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  playground.close();
                  stopped.countDown();
                }));
    System.out.println("bootstrap.servers=" + playground.bootstrapServers());
    // With --secure: SASL_SSL as admin, for any Kafka client or tool (--command-config,
    // --consumer.config, ...).
    playground
        .clientProperties()
        .ifPresent(p -> System.out.println("client.properties=" + p.toAbsolutePath()));
    // Each broker's Prometheus endpoint, for a dashboard or a benchmark counting requests.
    System.out.println(
        "metrics="
            + playground.brokers().stream()
                .map(b -> "http://127.0.0.1:" + b.httpPort() + "/metrics")
                .collect(java.util.stream.Collectors.joining(",")));
    System.out.flush();
    stopped.await();
  }
}
